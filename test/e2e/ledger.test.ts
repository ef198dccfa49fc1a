// The headline guarantee: 20 simulated users listen for 3 simulated days, each extracted every 10 simulated minutes,
// and the database then holds exactly the plays of the simulator's ledger, compared play by play on every field:
// none missing, none twice. Every service runs as its own process, two replicas of each worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeComparison } from '../support/ledger-compare.ts';
import { Stack } from '../support/stack.ts';

const USERS = 20;
const DAYS = Number(process.env.E2E_LEDGER_DAYS ?? 3);
const EVERY_MS = 10 * 60_000;

describe(`${USERS} users, ${DAYS} simulated days, an extraction every 10 simulated minutes`, () => {
  let stack: Stack;
  const users = Array.from({ length: USERS }, (_, i) => `listener-${String(i + 1).padStart(2, '0')}`);

  beforeAll(async () => {
    stack = await Stack.start({ label: 'ledger', simEnv: { SIM_START_DAYS_AGO: String(Math.ceil(DAYS) + 1) } });
    for (const [i, id] of users.entries()) {
      // from a light listener to one who plays all day long
      await stack.control.addUser({ id, playsPerHour: 4 + i });
      await stack.login(id);
    }
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // 433 rounds of 20 extractions: a few minutes on a quiet machine, longer on a busy one
  it('holds exactly the ledger, play by play', { timeout: 1_800_000 }, async () => {
    const started = Date.now();
    const rounds = Math.round((DAYS * 24 * 3_600_000) / EVERY_MS);
    const states = new Map<string, number>();
    for (let round = 0; round <= rounds; round += 1) {
      if (round > 0) await stack.control.advance(EVERY_MS);
      const extractions = await stack.extract(users, 120_000);
      for (const e of extractions) states.set(e.state, (states.get(e.state) ?? 0) + 1);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `ledger e2e: ${rounds + 1} rounds x ${USERS} users in ${seconds.toFixed(1)} s; extraction states ${JSON.stringify(Object.fromEntries(states))}`,
    );
    expect(states.get('failed') ?? 0).toBe(0);
    if (process.env.E2E_TIMINGS === '1') {
      const all = (await Promise.all(users.map((u) => stack.allExtractions(u)))).flat();
      const avg = (f: (e: (typeof all)[number]) => number | null) => {
        const v = all.map(f).filter((x): x is number => x !== null);
        return Math.round(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length));
      };
      console.log(
        `ledger e2e timings (ms): request->fetched ${avg((e) => (e.fetchedAt ? e.fetchedAt.getTime() - e.requestedAt.getTime() : null))}, ` +
          `fetched->final ${avg((e) => (e.fetchedAt && e.finishedAt ? e.finishedAt.getTime() - e.fetchedAt.getTime() : null))}, ` +
          `request->final ${avg((e) => (e.finishedAt ? e.finishedAt.getTime() - e.requestedAt.getTime() : null))}`,
      );
    }

    let total = 0;
    for (const id of users) {
      const c = await stack.compare(id);
      total += c.storedCount;
      expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, `${id}: ${describeComparison(c)}`).toBe(0);
    }
    console.log(`ledger e2e: ${total} plays compared, all equal`);
    expect(total).toBeGreaterThan(USERS * DAYS * 24 * 4);
    const gaps = await stack.store.listGaps({ limit: 10 });
    expect(gaps.items).toEqual([]);
    expect(stack.errorLines()).toEqual([]);
  });
});
