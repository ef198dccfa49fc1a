// Validator and loader workers (in this process) against real Redis and a real PostgreSQL database.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@playledger/store';
import { readPage, trackItem } from '../../validator/test/fixtures.ts';
import { validatePage } from '../../validator/src/index.ts';
import { createMetrics } from '@playledger/common';
import {
  capturingLogger,
  openStore,
  startExtraction,
  startPipeline,
  waitFor,
  waitForJob,
  type Pipeline,
} from './helpers.ts';
import type { TestDatabase } from '../../../test/support/postgres.ts';

let db: TestDatabase;
let store: Store;
let pipeline: Pipeline | undefined;

beforeAll(async () => {
  ({ db, store } = await openStore('pipeline'));
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

async function waitForExtraction(id: string, state = 'done') {
  return waitFor(`extraction ${id} ${state}`, async () => {
    const e = await store.getExtraction(id);
    return e?.state === state ? e : undefined;
  });
}

async function waitForDeadLetters(userId: string, count: number) {
  return waitFor(`${count} dead letters of ${userId}`, async () => {
    const page = await store.listDeadLetters({ userId }, { limit: 100 });
    return page.items.length >= count ? page.items : undefined;
  });
}

describe('validator + loader', () => {
  it('puts exactly the poisoned records in dead_letters with their rules and loads the rest', async () => {
    pipeline = await startPipeline(store, 'poison');
    const userId = 'user-poison';
    const real = readPage('after-duplicates.json').items; // 8 items, 7 distinct plays
    const future = new Date(Date.now() + 24 * 3600_000).toISOString();
    const poisoned = [
      { ...trackItem(90, '2025-05-01T10:00:00.000Z'), track: { ...trackItem(90, '').track, uri: undefined } },
      trackItem(91, 'not a time'),
      trackItem(92, future),
      { ...trackItem(93, '2025-05-01T11:00:00.000Z'), track: { ...trackItem(93, '').track, type: 'episode' } },
      { played_at: '2025-05-01T12:00:00.000Z', context: null },
    ];
    const items = [...real.slice(0, 4), ...poisoned, ...real.slice(4)];
    const job = await startExtraction(store, 'ext-poison', userId, items, new Date());
    await pipeline.validation.add('page', job, { jobId: 'raw-ext-poison' });

    const extraction = await waitForExtraction('ext-poison');
    const deadLetters = await waitForDeadLetters(userId, poisoned.length);

    expect(deadLetters.map((d) => [d.rule, d.field]).sort()).toEqual(
      [
        ['missing-value', '/track/uri'],
        ['played-at-unparseable', '/played_at'],
        ['played-at-in-future', '/played_at'],
        ['not-a-track', '/track/type'],
        ['missing-value', '/track'],
      ].sort(),
    );
    for (const d of deadLetters) {
      expect(d).toMatchObject({ stage: 'validator', extractionId: 'ext-poison', timesSeen: 1, status: 'open' });
      expect(poisoned.map((p) => JSON.parse(JSON.stringify(p)) as unknown)).toContainEqual(d.record); // the original record
    }
    expect(await store.countPlays(userId)).toBe(7);
    expect(extraction).toMatchObject({ newPlays: 7, knownPlays: 0, deadLettered: 5, fetched: 13, gapId: null });
  });

  it('loads the same load job delivered three times once; the extraction keeps new = N, known = 0', async () => {
    pipeline = await startPipeline(store, 'thrice');
    const userId = 'user-thrice';
    const page = readPage('before-full.json');
    const raw = await startExtraction(store, 'ext-thrice', userId, page.items, new Date());
    const { load } = validatePage(raw, new Date());
    const n = load.plays.length;
    expect(n).toBeGreaterThan(40);

    const outcomes = [];
    for (const delivery of [1, 2, 3]) {
      // a redelivery (a killed worker, a retried job) is the same payload processed again
      await pipeline.load.add('load', load, { jobId: `load-ext-thrice-${delivery}` });
      outcomes.push(await waitForJob(pipeline.load, `load-ext-thrice-${delivery}`));
      expect(await store.countPlays(userId)).toBe(n);
      expect(await store.getExtraction('ext-thrice')).toMatchObject({ state: 'done', newPlays: n, knownPlays: 0 });
    }
    expect(outcomes.map((o) => o.state)).toEqual(['completed', 'completed', 'completed']);
    expect(outcomes.map((o) => (o.returnvalue as { redelivery: boolean }).redelivery)).toEqual([false, true, true]);
    expect((outcomes[1]!.returnvalue as { newPlays: number }).newPlays).toBe(0);
    expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]); // a user's first page is no gap
  });

  it('keeps a poisoned record seen by several extractions as one dead letter with its count', async () => {
    pipeline = await startPipeline(store, 'seen');
    const userId = 'user-seen';
    const poisoned = {
      ...trackItem(70, '2025-06-01T10:00:00.000Z'),
      track: { ...trackItem(70, '').track, duration_ms: 'long' },
    };
    const ids = ['ext-seen-1', 'ext-seen-2', 'ext-seen-3'];
    for (const [i, id] of ids.entries()) {
      const valid = trackItem(i, `2025-06-01T1${i + 1}:00:00.000Z`);
      const job = await startExtraction(store, id, userId, [valid, poisoned], new Date(Date.now() + i));
      await pipeline.validation.add('page', job, { jobId: `raw-${id}` });
      await waitForExtraction(id);
    }
    const entries = await waitFor('the dead letter seen three times', async () => {
      const page = await store.listDeadLetters({ userId }, { limit: 10 });
      return page.items[0]?.timesSeen === 3 ? page.items : undefined;
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      stage: 'validator',
      rule: 'invalid-value',
      field: '/track/duration_ms',
      timesSeen: 3,
    });
    expect(entries[0]!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(entries[0]!.firstSeenAt.getTime());
    expect(await store.countPlays(userId)).toBe(3);
  });

  it('loads an empty page as an extraction with no plays', async () => {
    pipeline = await startPipeline(store, 'empty');
    const job = await startExtraction(store, 'ext-empty', 'user-empty', [], new Date());
    await pipeline.validation.add('page', job, { jobId: 'raw-ext-empty' });
    expect(await waitForExtraction('ext-empty')).toMatchObject({
      newPlays: 0,
      knownPlays: 0,
      deadLettered: 0,
      fetched: 0,
    });
  });

  it('resolves a dead letter whose replayed record loaded', async () => {
    pipeline = await startPipeline(store, 'replay');
    const userId = 'user-replay';
    const bad = { ...trackItem(5, '2025-07-01T10:00:00.000Z'), track: { ...trackItem(5, '').track, name: null } };
    const first = await startExtraction(store, 'ext-replay', userId, [bad], new Date());
    await pipeline.validation.add('page', first, { jobId: 'raw-ext-replay' });
    const [entry] = await waitForDeadLetters(userId, 1);
    await waitForExtraction('ext-replay');
    expect(await store.countPlays(userId)).toBe(0);

    // what the api's replay does: the corrected record back to the stage that rejected it
    const corrected = trackItem(5, '2025-07-01T10:00:00.000Z');
    await store.markDeadLetterReplayed(entry!.id);
    await pipeline.validation.add(
      'page',
      { ...first, items: [corrected], replayOf: entry!.id },
      { jobId: `raw-replay-${entry!.id}` },
    );
    await waitFor('the dead letter resolved', async () => {
      const d = await store.getDeadLetter(entry!.id);
      return d?.status === 'resolved' ? d : undefined;
    });
    expect(await store.countPlays(userId)).toBe(1);
  });

  it('records a gap when a full page lies wholly after what was loaded, logs it and counts it', async () => {
    const metrics = createMetrics('loader');
    const { logger, lines } = capturingLogger();
    pipeline = await startPipeline(store, 'gap', { metrics, logger });
    const userId = 'user-gap';
    const t0 = Date.parse('2025-10-01T10:00:00.000Z');
    const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

    const first = await startExtraction(
      store,
      'ext-gap-1',
      userId,
      [trackItem(1, at(10)), trackItem(2, at(5)), trackItem(3, at(0))],
      new Date(Date.now() - 1000),
    );
    await pipeline.validation.add('page', first, { jobId: 'raw-ext-gap-1' });
    await waitForExtraction('ext-gap-1');

    // 50 plays, the oldest two hours after the newest play loaded so far, plus one poisoned record: a full page
    const full = Array.from({ length: 49 }, (_, i) => trackItem(100 + i, at(300 - i * 3)));
    const second = await startExtraction(store, 'ext-gap-2', userId, [...full, trackItem(999, 'never')], new Date());
    await pipeline.validation.add('page', second, { jobId: 'raw-ext-gap-2' });
    const extraction = await waitForExtraction('ext-gap-2');
    await waitForDeadLetters(userId, 1);

    expect(extraction.gapId).not.toBeNull();
    const gaps = (await store.listGaps({ userId, limit: 10 })).items;
    expect(gaps.map((g) => [g.from.toISOString(), g.to.toISOString()])).toEqual([[at(10), at(300 - 48 * 3)]]);
    const warning = lines.find((l) => l.msg === 'gap in the listening history: plays between from and to may be lost');
    expect(warning).toMatchObject({ level: 40, userId, extractionId: 'ext-gap-2', from: at(10), to: at(300 - 48 * 3) });

    const value = async (name: string) =>
      (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    expect(await value('playledger_plays_new_total')).toEqual(['playledger_plays_new_total{service="loader"} 52']);
    expect(await value('playledger_gaps_total')).toEqual(['playledger_gaps_total{service="loader"} 1']);
    expect(await value('playledger_plays_dead_lettered_total')).toEqual([
      'playledger_plays_dead_lettered_total{stage="validator",rule="played-at-unparseable",service="loader"} 1',
    ]);
  });
});
