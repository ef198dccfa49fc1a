// The extractor's typed outcomes against the simulator, end to end: a rejected access token leads to one forced
// refresh; a 429 pauses every extraction for Retry-After without charging an attempt; a user whose grant is gone
// ends without retries. (The full fault suite with ledger comparisons is issue 7's.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeComparison } from '../support/ledger-compare.ts';
import { Stack, sleep } from '../support/stack.ts';

describe('extractor outcomes by failure type', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ label: 'xfaults', simEnv: { SIM_START_DAYS_AGO: '2' } });
    for (const id of ['fault-a', 'fault-b', 'fault-c']) {
      await stack.control.addUser({ id, playsPerHour: 12 });
      await stack.login(id);
    }
    await stack.extract(['fault-a', 'fault-b', 'fault-c']);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a rejected access token leads to one forced refresh, and the extraction completes', async () => {
    await stack.control.advance(30 * 60_000);
    await stack.control.request('POST', '/control/users/fault-a/expire-access-tokens');
    const before = await stack.control.calls();
    const [e] = await stack.extract(['fault-a']);
    expect(e?.state).toBe('done');
    const after = await stack.control.calls();
    expect((after.byUser['fault-a']?.token ?? 0) - (before.byUser['fault-a']?.token ?? 0)).toBe(1);
    expect((after.byUser['fault-a']?.['recently-played'] ?? 0) - (before.byUser['fault-a']?.['recently-played'] ?? 0)).toBe(2);
  });

  it('a 429 pauses every extraction for Retry-After; no job is charged an attempt', async () => {
    await stack.control.advance(30 * 60_000);
    await stack.control.addFault({ kind: 'rate-limit', endpoint: 'recently-played', count: 1, retryAfterSec: 3 });
    const ids = await Promise.all(['fault-a', 'fault-b'].map((u) => stack.requestExtraction(u)));
    // the first call is answered 429; during the pause nobody calls
    await sleep(800);
    const during = (await stack.control.calls()).total['recently-played'];
    await sleep(1_500);
    expect((await stack.control.calls()).total['recently-played']).toBe(during);
    // the one answered 429 still waits, 2.3 s into a 3 s pause (without the pause it would be done within ms)
    const waiting = await Promise.all(ids.map((id) => stack.store.getExtraction(id)));
    expect(waiting.filter((e) => e?.state === 'pending').length).toBeGreaterThanOrEqual(1);
    const done = await stack.waitForFinal(ids, 30_000);
    expect(done.map((e) => e.state)).toEqual(['done', 'done']);
    // BullMQ counts the completing attempt in attemptsMade: 1 means the rate-limited try was not charged
    const jobs = await Promise.all(ids.map((id) => stack.queues.extractions.getJob(id)));
    expect(jobs.map((j) => j?.attemptsMade)).toEqual([1, 1]);
    expect(Math.max(...jobs.map((j) => j?.attemptsStarted ?? 0))).toBeGreaterThanOrEqual(2);
    for (const u of ['fault-a', 'fault-b']) {
      const c = await stack.compare(u);
      expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, describeComparison(c)).toBe(0);
    }
  });

  it('a user whose grant is gone ends without retries, and the others go on', async () => {
    await stack.control.advance(30 * 60_000);
    await stack.control.request('POST', '/control/users/fault-c/revoke');
    await stack.control.request('POST', '/control/users/fault-c/expire-access-tokens');
    // auth may still hold a valid cached token: the 401 then forces the refresh that meets invalid_grant
    const [c, a] = await stack.extract(['fault-c', 'fault-a']);
    expect(c).toMatchObject({ state: 'failed', reason: 'user must log in again' });
    expect(a?.state).toBe('done');
    const job = await stack.queues.extractions.getJob(c?.id ?? '');
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect((await stack.store.getUser(stack.userId('fault-c')))?.status).toBe('needs_reauth');
  });
});
