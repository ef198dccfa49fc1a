// The whole stack comes up, one user logs in through the real flow, and one extraction lands exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeComparison } from '../support/ledger-compare.ts';
import { Stack } from '../support/stack.ts';

describe('whole stack smoke', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ label: 'smoke', simEnv: { SIM_START_DAYS_AGO: '2' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('logs in and loads the first extraction exactly', async () => {
    await stack.control.addUser({ id: 'smoke-1', playsPerHour: 10 });
    await stack.login('smoke-1');
    await stack.control.listen('smoke-1', 12);
    const [first] = await stack.extract(['smoke-1']);
    expect(first?.state, first?.reason ?? '').toBe('done');
    const c = await stack.compare('smoke-1');
    expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, describeComparison(c)).toBe(0);
    expect(c.storedCount).toBeGreaterThan(0);
    const [again] = await stack.extract(['smoke-1']);
    expect(again?.state).toBe('no_new_plays');
    expect(stack.errorLines()).toEqual([]);
  });
});
