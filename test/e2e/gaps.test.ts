// Gaps: a full page that does not reach back to what was stored records one gap with the right range; batches
// loaded out of order never make a false gap; a batch lost before loading never hides a real one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadJob } from '@playledger/common';
import type { Gap } from '@playledger/store';
import { describeComparison, playKey } from '../support/ledger-compare.ts';
import { Stack, waitUntil } from '../support/stack.ts';

/**
 * Moves the simulator's clock on until the user has played at least `count` more tracks (the simulator's own
 * listening, at 16 plays an hour: every quirk included). Returns how many were played.
 */
async function listen(stack: Stack, simUserId: string, count: number): Promise<number> {
  const start = (await stack.control.ledger(simUserId)).plays.length;
  for (;;) {
    const played = (await stack.control.ledger(simUserId)).plays.length - start;
    if (played >= count) return played;
    await stack.control.advance(Math.max(30_000, (count - played) * 150_000));
  }
}

/** A user listening 16 tracks an hour, with their first page (50 plays of history) loaded. */
async function userWithHistory(stack: Stack, simUserId: string): Promise<void> {
  await stack.control.addUser({ id: simUserId, playsPerHour: 16 });
  await stack.login(simUserId);
  const [first] = await stack.extract([simUserId]);
  expect(first).toMatchObject({ state: 'done', pageFull: true, gapId: null });
}

async function gapsOf(stack: Stack, simUserId: string): Promise<Gap[]> {
  return (await stack.store.listGaps({ userId: stack.userId(simUserId), limit: 100 })).items;
}

/** Holds the load queue, lets an extraction run until its batch waits there, and takes the batch out. */
async function interceptBatch(stack: Stack, simUserId: string): Promise<{ extractionId: string; batch: LoadJob }> {
  await stack.queues.load.pause();
  try {
    const extractionId = await stack.requestExtraction(simUserId);
    const job = await stack.waitForJob(stack.queues.load, `load-${extractionId}`);
    const batch = job.data;
    await job.remove();
    return { extractionId, batch };
  } finally {
    await stack.queues.load.resume();
  }
}

describe('gaps, with two replicas of each worker', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ label: 'gaps', simEnv: { SIM_START_DAYS_AGO: '3' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('80 plays between two extractions: the 50 newest are loaded and one gap with the right range is kept', async () => {
    await userWithHistory(stack, 'gap-80');
    const before = (await stack.control.ledger('gap-80')).plays;
    const newestBefore = before.at(-1);
    await listen(stack, 'gap-80', 80);
    const [second] = await stack.extract(['gap-80']);
    expect(second).toMatchObject({ state: 'done', fetched: 50, knownPlays: 0, pageFull: true });

    const ledger = (await stack.control.ledger('gap-80')).plays;
    const added = ledger.slice(before.length);
    expect(added.length).toBeGreaterThanOrEqual(80);
    // the page shows the newest 50 items (an exact duplicate item counts as one of them, FACTS 11)
    const onPage = added.filter((p) => p.playedAtMs >= (second?.oldestPlayedAt?.getTime() ?? Infinity));
    expect(onPage.length).toBeGreaterThanOrEqual(45);
    expect(second?.newPlays).toBe(onPage.length);
    const gaps = await gapsOf(stack, 'gap-80');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.from.getTime()).toBe(newestBefore?.playedAtMs);
    expect(gaps[0]?.to.getTime()).toBe(onPage[0]?.playedAtMs);
    expect(gaps[0]?.extractionId).toBe(second?.id);

    // exactly the plays inside the gap are missing; nothing else is missing, extra or doubled
    const c = await stack.compare('gap-80');
    const lost = added.slice(0, added.length - onPage.length).map((p) => playKey(p.trackUri, p.playedAtMs));
    expect(lost.length).toBeGreaterThanOrEqual(25);
    expect(c.missing.sort(), describeComparison(c)).toEqual(lost.sort());
    expect(c.extra).toEqual([]);
    expect(c.doubled).toEqual([]);
    expect(c.differences).toEqual([]);
  });

  it('two loader replicas loading batches out of order record no false gap', async () => {
    await userWithHistory(stack, 'gap-order');
    await listen(stack, 'gap-order', 25);
    // batch A is held back; batch B (whose page overlaps A's but not the first page) loads first
    const a = await interceptBatch(stack, 'gap-order');
    await listen(stack, 'gap-order', 30);
    const [b] = await stack.extract(['gap-order']);
    expect(b).toMatchObject({ state: 'done', pageFull: true });
    expect(await gapsOf(stack, 'gap-order')).toEqual([]);
    // then A arrives, late
    await stack.queues.load.add('load', a.batch, { jobId: `load-${a.extractionId}` });
    const [late] = await stack.waitForFinal([a.extractionId]);
    expect(late?.state).toBe('done');
    // evaluation has walked past both, and found nothing
    await stack.extract(['gap-order']);
    expect(await gapsOf(stack, 'gap-order')).toEqual([]);
    const c = await stack.compare('gap-order');
    expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, describeComparison(c)).toBe(0);
  });
});

describe('a batch lost before loading', () => {
  let stack: Stack;
  beforeAll(async () => {
    // a short stale window, so that the lost extraction is failed within the test (default: 2 hours)
    stack = await Stack.start({
      label: 'gaplost',
      simEnv: { SIM_START_DAYS_AGO: '3' },
      serviceEnv: { extractor: { STALE_EXTRACTION_MS: '4000', RECONCILE_INTERVAL_MS: '500' } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('then 60 plays: a gap is recorded once the lost extraction is failed', async () => {
    await userWithHistory(stack, 'gap-lost');
    const newestLoaded = (await stack.control.ledger('gap-lost')).plays.at(-1);
    await listen(stack, 'gap-lost', 40);
    const lost = await interceptBatch(stack, 'gap-lost'); // never loaded
    await listen(stack, 'gap-lost', 60);
    const [next] = await stack.extract(['gap-lost']);
    expect(next).toMatchObject({ state: 'done', pageFull: true });

    const failed = await waitUntil(
      async () => {
        const e = await stack.store.getExtraction(lost.extractionId);
        return e?.state === 'failed' ? e : null;
      },
      30_000,
      'the lost extraction to be failed as stale',
    );
    expect(failed.reason).toBeTruthy();
    const gaps = await waitUntil(
      async () => {
        const g = await gapsOf(stack, 'gap-lost');
        return g.length > 0 ? g : null;
      },
      10_000,
      'a gap',
    );
    const ledger = (await stack.control.ledger('gap-lost')).plays;
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.from.getTime()).toBe(newestLoaded?.playedAtMs);
    expect(gaps[0]?.to.getTime()).toBe(next?.oldestPlayedAt?.getTime());
    expect(ledger.some((p) => p.playedAtMs === next?.oldestPlayedAt?.getTime())).toBe(true);
    expect(gaps[0]?.extractionId).toBe(next?.id);
    // what is missing lies inside the gap, and only there
    const c = await stack.compare('gap-lost');
    const inside = ledger.filter((p) => p.playedAtMs > (newestLoaded?.playedAtMs ?? 0) && p.playedAtMs < gaps[0]!.to.getTime());
    expect(c.missing.sort(), describeComparison(c)).toEqual(inside.map((p) => playKey(p.trackUri, p.playedAtMs)).sort());
    expect(c.extra.length + c.doubled.length + c.differences.length).toBe(0);
  });
});
