import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadJob } from '@playledger/common';
import { CSV_COLUMNS } from '../src/lib/export.ts';
import { play, seedPlays, seedUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
const END = new Date('2026-06-01T12:00:00.000Z');
let gapExtractionId: string;

beforeAll(async () => {
  h = await startHarness('plays');
  await seedUser(h.store, 'ivy');
  await seedUser(h.store, 'jack');
  await seedPlays(h.store, 'ivy', 120, END, 50);
  // a full page of 50 whose oldest play is a day after ivy's newest: a gap
  const start = END.getTime() + 24 * 3600_000;
  const plays = Array.from({ length: 50 }, (_, i) => play(new Date(start + i * 180_000), 5_000 + i));
  gapExtractionId = 'gap-extraction-1';
  const fetchedAt = new Date(start + 51 * 180_000);
  await h.store.startExtraction({ id: gapExtractionId, userId: 'ivy', trigger: 'scheduled', requestedAt: fetchedAt });
  await h.store.markExtractionFetched(gapExtractionId, {
    fetchedAt,
    fetched: 50,
    full: true,
    oldestPlayedAt: new Date(plays[0]!.playedAt),
    newestPlayedAt: new Date(plays[49]!.playedAt),
  });
  const job: LoadJob = {
    extractionId: gapExtractionId,
    userId: 'ivy',
    fetchedAt: fetchedAt.toISOString(),
    plays,
    page: {
      fetched: 50,
      full: true,
      oldestPlayedAt: plays[0]!.playedAt,
      newestPlayedAt: plays[49]!.playedAt,
      deadLettered: 0,
      duplicatesCollapsed: 0,
    },
  };
  await h.store.loadBatch(job);
});
afterAll(async () => {
  await h?.close();
});

interface PlayPage {
  items: { playedAt: string; track: { uri: string; name: string }; extractionId: string }[];
  nextCursor: string | null;
}

describe('plays', () => {
  it('pages through every play newest first with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await h.call({ method: 'GET', url: `/users/ivy/plays?limit=40${q}` });
      expect(res.statusCode).toBe(200);
      const page = res.json<PlayPage>();
      seen.push(...page.items.map((p) => p.playedAt));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(170);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('filters by time range (from inclusive, to exclusive)', async () => {
    const first = new Date(END.getTime() - 120 * 180_000);
    const from = new Date(first.getTime() + 10 * 180_000).toISOString();
    const to = new Date(first.getTime() + 20 * 180_000).toISOString();
    const res = await h.call({ method: 'GET', url: `/users/ivy/plays?from=${from}&to=${to}&limit=500` });
    const items = res.json<PlayPage>().items;
    expect(items).toHaveLength(10);
    expect(items.at(-1)?.playedAt).toBe(from);
  });

  it('errors: unknown user 404, bad instant or limit 400 naming the field', async () => {
    expect((await h.call({ method: 'GET', url: '/users/nobody/plays' })).statusCode).toBe(404);
    const bad = await h.call({ method: 'GET', url: '/users/ivy/plays?from=yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'bad_request', field: 'querystring/from' });
    const big = await h.call({ method: 'GET', url: '/users/ivy/plays?limit=100000' });
    expect(big.json()).toMatchObject({ field: 'querystring/limit' });
  });

  it('exports NDJSON (the default): one play per line, oldest first', async () => {
    const res = await h.call({ method: 'GET', url: '/users/ivy/plays/export' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    expect(res.headers['content-disposition']).toBe('attachment; filename="plays-ivy.ndjson"');
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { playedAt: string; track: { artists: unknown[] } });
    expect(lines).toHaveLength(170);
    expect(lines[0]?.track.artists).toHaveLength(2);
    expect(lines.map((l) => l.playedAt)).toEqual(lines.map((l) => l.playedAt).sort());
  });

  it('exports CSV with a header and quoted fields, and honours the range', async () => {
    const res = await h.call({ method: 'GET', url: '/users/ivy/plays/export?format=csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const rows = res.body.split('\r\n').filter((r) => r.length > 0);
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(171);
    // Track "0", live -> quoted, quotes doubled; both artists kept
    expect(rows[1]).toContain('"Track ""0"", live"');
    expect(rows[1]).toContain('Artist One; Artist Two');
    const from = new Date(END.getTime() - 10 * 180_000).toISOString();
    const ranged = await h.call({ method: 'GET', url: `/users/ivy/plays/export?format=csv&from=${from}&to=${END.toISOString()}` });
    expect(ranged.body.split('\r\n').filter((r) => r.length > 0)).toHaveLength(11);
    const empty = await h.call({ method: 'GET', url: '/users/jack/plays/export?format=csv' });
    expect(empty.body).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('export errors: unknown user 404, unknown format 400', async () => {
    expect((await h.call({ method: 'GET', url: '/users/nobody/plays/export' })).statusCode).toBe(404);
    const bad = await h.call({ method: 'GET', url: '/users/ivy/plays/export?format=xml' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'querystring/format' });
  });
});

describe('gaps', () => {
  it('lists gaps overall and per user, and the extraction that revealed one shows it', async () => {
    const all = await h.call({ method: 'GET', url: '/gaps' });
    expect(all.statusCode).toBe(200);
    const gaps = all.json<{ items: { id: string; userId: string; extractionId: string; from: string; to: string }[] }>().items;
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ userId: 'ivy', extractionId: gapExtractionId });
    const mine = await h.call({ method: 'GET', url: '/users/ivy/gaps' });
    expect(mine.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await h.call({ method: 'GET', url: '/users/jack/gaps' })).json<{ items: unknown[] }>().items).toHaveLength(0);
    expect((await h.call({ method: 'GET', url: '/gaps?userId=jack' })).json<{ items: unknown[] }>().items).toHaveLength(0);
    expect((await h.call({ method: 'GET', url: '/users/nobody/gaps' })).statusCode).toBe(404);
    const e = await h.call({ method: 'GET', url: `/extractions/${gapExtractionId}` });
    expect(e.json()).toMatchObject({ gapId: gaps[0]!.id, gap: { id: gaps[0]!.id, from: gaps[0]!.from, to: gaps[0]!.to } });
    const status = await h.call({ method: 'GET', url: '/users/ivy' });
    expect(status.json()).toMatchObject({ playCount: 170, gaps: [{ id: gaps[0]!.id }] });
  });
});
