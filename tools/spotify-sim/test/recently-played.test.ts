/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   Tests read Spotify-shaped JSON as it comes over the wire; asserting on it is the point. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { HOUR, api, control, login, start } from './helpers.ts';

const RP = '/v1/me/player/recently-played';
let sim: Simulator;
let s: { accessToken: string; refreshToken: string; userId: string };

beforeAll(async () => {
  sim = await start({ users: 2, playsPerHour: 10 });
  s = await login(sim);
});
afterAll(async () => {
  await sim.close();
});

const key = (uri: string, ms: number): string => `${uri}@${ms}`;
const itemKey = (item: any): string => key(item.track.uri, Date.parse(item.played_at));

describe('recently-played over time', () => {
  it('shows exactly the ledger: every generated play seen while polling as the clock advances', async () => {
    const seen = new Set<string>();
    let firstOldest = Infinity;
    let duplicates = 0;
    for (let poll = 0; poll < 36; poll++) {
      const page = await api(sim, s.accessToken, `${RP}?limit=50`);
      expect(page.status).toBe(200);
      const items = page.body.items as any[];
      const times = items.map((i) => Date.parse(i.played_at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      if (poll === 0) firstOldest = Math.min(...times);
      const text = items.map((i) => JSON.stringify(i));
      duplicates += text.length - new Set(text).size;
      for (const item of items) seen.add(itemKey(item));
      await control(sim, 'POST', '/clock', { advanceMs: 2 * HOUR });
    }
    const ledger = await control(sim, 'GET', `/users/${s.userId}/ledger`);
    const truth = (ledger.plays as any[]).filter((p) => p.playedAtMs >= firstOldest && p.playedAtMs <= ledger.nowMs);
    const lastPollMs = ledger.nowMs - 2 * HOUR;
    const expected = new Set(truth.filter((p) => p.playedAtMs <= lastPollMs).map((p) => key(p.trackUri, p.playedAtMs)));
    expect(seen).toEqual(expected);
    expect(new Set((ledger.plays as any[]).map((p) => key(p.trackUri, p.playedAtMs))).size).toBe(ledger.plays.length);
    expect(duplicates).toBeGreaterThan(0); // exact duplicate items happen, and are one ledger entry each
    const quirks = new Set((ledger.plays as any[]).flatMap((p) => p.quirks));
    for (const q of ['short', 'same-played-at', 'no-millis', 'local', 'duplicate-item']) expect(quirks).toContain(q);
    expect((ledger.plays as any[]).some((p) => p.contextUri !== null)).toBe(true);
    expect((ledger.plays as any[]).some((p) => !p.visible)).toBe(true);
  });

  it('keeps only the newest 50: 80 plays between two reads leave 30 invisible but in the ledger', async () => {
    const before = await control(sim, 'GET', `/users/${s.userId}/ledger`);
    await control(sim, 'POST', '/clock', { advanceMs: 60_000 });
    const added = await control(sim, 'POST', `/users/${s.userId}/listen`, { count: 80 });
    expect(added.plays).toBe(80);
    const after = await control(sim, 'GET', `/users/${s.userId}/ledger`);
    const fresh = (after.plays as any[]).slice(before.plays.length);
    expect(fresh).toHaveLength(80);
    const page = await api(sim, s.accessToken, `${RP}?limit=50`);
    expect(page.body.items).toHaveLength(50);
    const oldestShown = Number(page.body.cursors.before);
    expect(fresh.filter((p) => p.playedAtMs < oldestShown).length).toBeGreaterThanOrEqual(29);
    expect(Math.max(...fresh.map((p) => p.playedAtMs))).toBeLessThanOrEqual(after.nowMs);
  });

  it('is deterministic: the same seed gives the same ledger', async () => {
    const startMs = Date.now() - 10 * 24 * HOUR;
    const a = await start({ seed: 'same', clockStartMs: startMs });
    const b = await start({ seed: 'same', clockStartMs: startMs });
    try {
      const la = await control(a, 'GET', '/users/sim-user-1/ledger');
      const lb = await control(b, 'GET', '/users/sim-user-1/ledger');
      expect(la.plays.length).toBeGreaterThan(100);
      expect(lb.plays).toEqual(la.plays);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('paging and cursors', () => {
  it('builds cursors, next and href as Spotify does, and pages back with exclusive before', async () => {
    const first = await api(sim, s.accessToken, `${RP}?limit=20`);
    const b = first.body;
    expect(Object.keys(b)).toEqual(['items', 'next', 'cursors', 'limit', 'href']);
    expect(b.limit).toBe(20);
    expect(b.href).toBe(`${sim.url}${RP}?limit=20`);
    expect(b.cursors.after).toBe(String(Date.parse(b.items[0].played_at)));
    expect(b.cursors.before).toBe(String(Date.parse(b.items.at(-1).played_at)));
    expect(b.next).toBe(`${sim.url}${RP}?before=${b.cursors.before}&limit=20`);
    const all: any[] = [...b.items];
    let next: string | null = b.next;
    while (next) {
      const page = await api(sim, s.accessToken, next.slice(sim.url.length));
      for (const item of page.body.items)
        expect(Date.parse(item.played_at)).toBeLessThan(Number(new URL(next).searchParams.get('before')));
      expect(page.body.href).toBe(next);
      all.push(...page.body.items);
      next = page.body.next;
    }
    expect(all).toHaveLength(50);
  });

  it('after= is exclusive and its next pages forward; an empty page has null cursors and next', async () => {
    const top = await api(sim, s.accessToken, `${RP}?limit=5`);
    const newest = top.body.cursors.after;
    const empty = await api(sim, s.accessToken, `${RP}?after=${newest}&limit=50`);
    expect(empty.body).toEqual({
      items: [],
      next: null,
      cursors: null,
      limit: 50,
      href: `${sim.url}${RP}?after=${newest}&limit=50`,
    });
    const secondMs = Date.parse(top.body.items[1].played_at);
    const after = await api(sim, s.accessToken, `${RP}?after=${secondMs}&limit=50`);
    for (const item of after.body.items) expect(Date.parse(item.played_at)).toBeGreaterThan(secondMs);
    expect(after.body.next).toBe(`${sim.url}${RP}?after=${after.body.cursors.after}&limit=50`);
    const older = await api(sim, s.accessToken, `${RP}?before=${newest}&limit=50`);
    for (const item of older.body.items) expect(Date.parse(item.played_at)).toBeLessThan(Number(newest));
  });

  it('refuses bad limits, both cursors, non-integer cursors; needs a token and the scope', async () => {
    for (const q of ['limit=0', 'limit=51', 'limit=abc', 'after=1&before=2', 'after=x']) {
      const res = await api(sim, s.accessToken, `${RP}?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.status).toBe(400);
    }
    const none = await api(sim, undefined, RP);
    expect(none.body).toEqual({ error: { status: 401, message: 'Missing/invalid/expired access token' } });
    expect((await api(sim, 'garbage', RP)).status).toBe(401);
    const defaultLimit = await api(sim, s.accessToken, RP);
    expect(defaultLimit.body.items).toHaveLength(20);
  });

  it('leaves available_markets and popularity out for a development-mode app', async () => {
    const full = await api(sim, s.accessToken, `${RP}?limit=50`);
    const item = (full.body.items as any[]).find((i) => !i.track.is_local);
    expect(Object.keys(item.track)).toEqual([
      'album',
      'artists',
      'available_markets',
      'disc_number',
      'duration_ms',
      'explicit',
      'external_ids',
      'external_urls',
      'href',
      'id',
      'is_local',
      'name',
      'popularity',
      'preview_url',
      'track_number',
      'type',
      'uri',
    ]);
    const apps = await control(sim, 'GET', '/apps');
    await control(sim, 'PUT', `/apps/${apps[0].clientId}`, { devMode: true });
    const dev = await api(sim, s.accessToken, `${RP}?limit=50`);
    for (const i of dev.body.items) {
      expect(i.track).not.toHaveProperty('available_markets');
      expect(i.track).not.toHaveProperty('popularity');
      expect(i.track.album).not.toHaveProperty('available_markets');
    }
    await control(sim, 'PUT', `/apps/${apps[0].clientId}`, { devMode: false });
  });
});
