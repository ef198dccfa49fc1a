// The way users get their plays: nobody asks for an extraction. Users log in through the real flow, the job
// scheduler that login registered runs the extractions (EXTRACTION_INTERVAL_MS, its documented variable, set to 2 s),
// and the database follows the listening as it happens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Extraction } from '@playledger/store';
import { Stack } from '../support/stack.ts';
import { inexactness } from '../support/user-history.ts';
import { waitUntil } from '../support/wait.ts';

const USERS = ['sched-1', 'sched-2'];

describe('scheduled extractions, with no hand work', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      label: 'schedule',
      env: { EXTRACTION_INTERVAL_MS: '2000' },
      simEnv: { SIM_START_DAYS_AGO: '1' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** waits until every user's plays equal the ledger, and returns their extractions */
  async function caughtUp(what: string): Promise<Extraction[][]> {
    return waitUntil(
      async () => {
        for (const u of USERS) if (inexactness(u, await stack.compare(u)) !== null) return null;
        return Promise.all(USERS.map((u) => stack.allExtractions(u)));
      },
      60_000,
      what,
    );
  }

  it('loads every play of every user, and keeps up as they listen', async () => {
    for (const u of USERS) {
      await stack.control.addUser({ id: u, playsPerHour: 10 });
      await stack.login(u);
    }
    await stack.control.advance(30 * 60_000); // the clock stands still unless moved: half an hour of listening
    for (const u of USERS) await stack.control.listen(u, 12);
    const first = await caughtUp('the scheduled runs to load the first plays');
    const storedFirst = await Promise.all(USERS.map(async (u) => (await stack.compare(u)).storedCount));
    for (const extractions of first) {
      expect(extractions.length).toBeGreaterThan(0);
      expect(new Set(extractions.map((e) => e.trigger))).toEqual(new Set(['scheduled']));
    }

    // more listening, later: the next runs pick it up, still with nobody asking
    await stack.control.advance(30 * 60_000);
    for (const u of USERS) await stack.control.listen(u, 8);
    const later = await caughtUp('the scheduled runs to load the new plays');
    for (const [i, extractions] of later.entries()) {
      expect(extractions.length).toBeGreaterThan(first[i]?.length ?? 0);
      expect(extractions.every((e) => e.trigger === 'scheduled')).toBe(true);
      expect(extractions.filter((e) => e.state === 'done').length).toBeGreaterThanOrEqual(2);
      expect(extractions.some((e) => e.state === 'failed')).toBe(false);
      expect((await stack.compare(USERS[i] as string)).storedCount).toBeGreaterThanOrEqual((storedFirst[i] ?? 0) + 8);
    }
    expect(stack.errorLines()).toEqual([]);
  });
});
