import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadJob, RawPageJob } from '@playledger/common';
import { spawnService, type ServiceProcess } from '../../../test/support/processes.ts';
import { TEST_REDIS_URL } from '../../../test/support/redis.ts';
import { PAGES_DIR } from '../../../test/support/shared.ts';
import { deadLetterJob, play, seedPlays, seedUser, startHarness, type Harness } from './harness.ts';

interface DeadLetterBody {
  id: string;
  stage: string;
  rule: string;
  userId: string;
  record: unknown;
  correction: unknown;
  status: string;
  replayedAt: string | null;
}

const page = JSON.parse(readFileSync(path.join(PAGES_DIR, 'before-full.json'), 'utf8')) as { items: Record<string, unknown>[] };
const rawItem = page.items[0]!;
const otherItem = page.items[1]!;

async function waitForStatus(id: string, wanted: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  let status = '';
  while (Date.now() < deadline) {
    status = (await h.store.getDeadLetter(id))?.status ?? '';
    if (status === wanted) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return status;
}

let h: Harness;
let extractionId: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness('deadletters');
  await seedUser(h.store, 'kim');
  await seedUser(h.store, 'lee');
  [extractionId] = (await seedPlays(h.store, 'kim', 10)) as [string];
  const broken = { ...rawItem, played_at: 'not-a-time' };
  ids.validator = (await h.store.recordDeadLetter(deadLetterJob('kim', extractionId, { record: broken }))).id;
  ids.loader = (
    await h.store.recordDeadLetter(
      deadLetterJob('kim', extractionId, {
        stage: 'loader',
        rule: 'load-failed',
        field: null,
        message: 'the database refused the batch',
        record: play(new Date('2026-01-01T00:00:00.000Z'), 42),
      }),
    )
  ).id;
  ids.extractor = (
    await h.store.recordDeadLetter(deadLetterJob('lee', extractionId, { stage: 'extractor', rule: 'bad-page', record: null }))
  ).id;
  ids.other = (
    await h.store.recordDeadLetter(deadLetterJob('lee', extractionId, { rule: 'track-uri', record: { played_at: 'x', n: 2 } }))
  ).id;
});
afterAll(async () => {
  await h?.close();
});

describe('dead letters: list, show, correct, delete', () => {
  it('lists with filters by stage, rule, user and time, paginated', async () => {
    const all = await h.call({ method: 'GET', url: '/dead-letters' });
    expect(all.statusCode).toBe(200);
    expect(all.json<{ items: DeadLetterBody[] }>().items).toHaveLength(4);
    const byStage = await h.call({ method: 'GET', url: '/dead-letters?stage=loader' });
    expect(byStage.json<{ items: DeadLetterBody[] }>().items.map((d) => d.id)).toEqual([ids.loader]);
    const byRule = await h.call({ method: 'GET', url: '/dead-letters?rule=track-uri' });
    expect(byRule.json<{ items: DeadLetterBody[] }>().items.map((d) => d.id)).toEqual([ids.other]);
    const byUser = await h.call({ method: 'GET', url: '/dead-letters?userId=lee' });
    expect(byUser.json<{ items: DeadLetterBody[] }>().items).toHaveLength(2);
    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = await h.call({ method: 'GET', url: `/dead-letters?from=${future}` });
    expect(none.json<{ items: DeadLetterBody[] }>().items).toHaveLength(0);
    const past = new Date(Date.now() - 3600_000).toISOString();
    const before = await h.call({ method: 'GET', url: `/dead-letters?to=${past}` });
    expect(before.json<{ items: DeadLetterBody[] }>().items).toHaveLength(0);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await h.call({ method: 'GET', url: `/dead-letters?limit=3${q}` })).json<{
        items: DeadLetterBody[];
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(Object.values(ids).sort());

    for (const [query, field] of [
      ['stage=parser', 'querystring/stage'],
      ['from=soon', 'querystring/from'],
      ['limit=501', 'querystring/limit'],
    ] as const) {
      const res = await h.call({ method: 'GET', url: `/dead-letters?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toMatchObject({ field });
    }
  });

  it('shows one; unknown id 404', async () => {
    const res = await h.call({ method: 'GET', url: `/dead-letters/${ids.validator}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ids.validator, stage: 'validator', status: 'open', correction: null });
    expect((await h.call({ method: 'GET', url: '/dead-letters/999999' })).statusCode).toBe(404);
  });

  it('a correction is kept beside the original', async () => {
    const res = await h.call({
      method: 'PUT',
      url: `/dead-letters/${ids.validator}/correction`,
      payload: { record: rawItem },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<DeadLetterBody>();
    expect(body.correction).toEqual(rawItem);
    expect((body.record as { played_at: string }).played_at).toBe('not-a-time');
    const missing = await h.call({ method: 'PUT', url: `/dead-letters/${ids.validator}/correction`, payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ field: 'body/record' });
    const unknown = await h.call({ method: 'PUT', url: '/dead-letters/999999/correction', payload: { record: 1 } });
    expect(unknown.statusCode).toBe(404);
  });

  it('a body over the limit is refused with 413', async () => {
    const res = await h.call({
      method: 'PUT',
      url: `/dead-letters/${ids.other}/correction`,
      payload: { record: 'x'.repeat(h.config.BODY_LIMIT_BYTES + 10) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json<{ error: string }>().error).toBeTruthy();
  });
});

describe('dead letters: replay to the stage that rejected them', () => {
  it('a corrected validator rejection goes to validation as a one-item raw page with replayOf', async () => {
    const res = await h.call({ method: 'POST', url: `/dead-letters/${ids.validator}/replay` });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ queue: string; jobId: string; usedCorrection: boolean; replayed: boolean }>();
    expect(body).toMatchObject({ replayed: true, queue: 'validation', usedCorrection: true });
    const job = await h.queues.validation.getJob(body.jobId);
    const data = job?.data as RawPageJob;
    expect(data).toMatchObject({ extractionId, userId: 'kim', items: [rawItem], limit: 50, replayOf: ids.validator });
    expect((await h.store.getDeadLetter(ids.validator!))?.status).toBe('replayed');
  });

  it('a loader rejection goes to load as a batch of that play', async () => {
    const res = await h.call({ method: 'POST', url: `/dead-letters/${ids.loader}/replay` });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ queue: string; jobId: string; usedCorrection: boolean }>();
    expect(body).toMatchObject({ queue: 'load', usedCorrection: false });
    const data = (await h.queues.load.getJob(body.jobId))?.data as LoadJob;
    expect(data).toMatchObject({ extractionId, userId: 'kim', replayOf: ids.loader, page: { fetched: 1, full: false } });
    expect(data.plays).toHaveLength(1);
  });

  it('an extractor rejection cannot be replayed (422); unknown id 404', async () => {
    const res = await h.call({ method: 'POST', url: `/dead-letters/${ids.extractor}/replay` });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'unprocessable' });
    expect((await h.call({ method: 'POST', url: '/dead-letters/999999/replay' })).statusCode).toBe(404);
  });

  it('replays many by ids (unknown ones reported) and by filter', async () => {
    const res = await h.call({ method: 'POST', url: '/dead-letters/replay', payload: { ids: [ids.other, '999999', ids.extractor] } });
    expect(res.statusCode).toBe(202);
    const results = res.json<{ results: { id: string; replayed: boolean; queue: string | null; error?: string }[] }>().results;
    expect(results.map((r) => [r.id, r.replayed, r.queue])).toEqual([
      [ids.other, true, 'validation'],
      ['999999', false, null],
      [ids.extractor, false, null],
    ]);
    // every open one for kim: none left open (both were replayed above)
    const byFilter = await h.call({ method: 'POST', url: '/dead-letters/replay', payload: { filter: { userId: 'kim' } } });
    expect(byFilter.json<{ results: unknown[] }>().results).toHaveLength(0);
    const again = await h.call({
      method: 'POST',
      url: '/dead-letters/replay',
      payload: { filter: { userId: 'kim', status: 'replayed', stage: 'loader' } },
    });
    expect(again.json<{ results: { id: string; replayed: boolean }[] }>().results).toEqual([
      expect.objectContaining({ id: ids.loader, replayed: true }),
    ]);
    const bad = await h.call({ method: 'POST', url: '/dead-letters/replay', payload: { ids: [] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'body/ids' });
  });

  it('deletes one; deleting again is 404', async () => {
    const res = await h.call({ method: 'DELETE', url: `/dead-letters/${ids.extractor}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: ids.extractor, deleted: true });
    expect((await h.call({ method: 'DELETE', url: `/dead-letters/${ids.extractor}` })).statusCode).toBe(404);
    expect((await h.call({ method: 'GET', url: `/dead-letters/${ids.extractor}` })).statusCode).toBe(404);
  });
});

describe('a corrected dead letter, replayed through the real validator and loader, is loaded', () => {
  let workers: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(10_000)));
  });

  it('lands in the store and the dead letter is resolved', async () => {
    const env = {
      LOG_LEVEL: 'info',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      STORE_KIND: 'postgres',
      DATABASE_URL: h.db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    workers = await Promise.all([
      spawnService({ name: 'validator', script: 'services/validator/src/main.ts', env }),
      spawnService({ name: 'loader', script: 'services/loader/src/main.ts', env }),
    ]);
    // the replays queued above (before any worker ran) are processed now and load too
    expect(await waitForStatus(ids.validator!, 'resolved')).toBe('resolved');
    expect(await waitForStatus(ids.loader!, 'resolved')).toBe('resolved');

    const broken = { ...otherItem, played_at: 'still-not-a-time' };
    const dl = await h.store.recordDeadLetter(deadLetterJob('kim', extractionId, { record: broken, rule: 'played-at' }));
    const before = await h.store.countPlays('kim');
    const corrected = await h.call({ method: 'PUT', url: `/dead-letters/${dl.id}/correction`, payload: { record: otherItem } });
    expect(corrected.statusCode).toBe(200);
    const replay = await h.call({ method: 'POST', url: `/dead-letters/${dl.id}/replay` });
    expect(replay.statusCode).toBe(202);
    expect(await waitForStatus(dl.id, 'resolved')).toBe('resolved');
    expect(await h.store.countPlays('kim')).toBe(before + 1);
    const playedAt = otherItem.played_at as string;
    const plays = await h.call({ method: 'GET', url: `/users/kim/plays?from=${playedAt}&to=${new Date(Date.parse(playedAt) + 1).toISOString()}` });
    expect(plays.json()).toMatchObject({ items: [{ playedAt, track: { uri: (otherItem.track as { uri: string }).uri } }] });
  });
});
