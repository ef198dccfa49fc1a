/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Tests read Spotify-shaped JSON as it comes over the wire; asserting on it is the point. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { VirtualClock } from '../src/clock.ts';
import { HOUR, api, control, login, start } from './helpers.ts';
import { PAGES_DIR } from '../../../test/support/shared.ts';

const PAGES = PAGES_DIR;
const RP = '/v1/me/player/recently-played';
let sim: Simulator;

beforeAll(async () => {
  sim = await start({ users: 2 });
});
afterAll(async () => {
  await sim.close();
});

describe('virtual clock', () => {
  it('starts in the past, moves forward, clamps at real now, never goes back', async () => {
    const c0 = await control(sim, 'GET', '/clock');
    expect(c0.nowMs).toBeLessThan(Date.now() - 29 * 24 * HOUR);
    const c1 = await control(sim, 'POST', '/clock', { advanceMs: HOUR });
    expect(c1.nowMs).toBe(c0.nowMs + HOUR);
    const back = await control(sim, 'POST', '/clock', { setMs: c0.nowMs });
    expect(back.nowMs).toBe(c1.nowMs);
    const far = await control(sim, 'POST', '/clock', { advanceMs: 365 * 24 * HOUR });
    expect(far.nowMs).toBeLessThanOrEqual(Date.now());
    expect(far.nowMs).toBeLessThanOrEqual(far.realNowMs);
    const s = await login(sim);
    const ledger = await control(sim, 'GET', `/users/${s.userId}/ledger`);
    for (const p of ledger.plays) expect(p.playedAtMs).toBeLessThanOrEqual(Date.now());
  });

  it('a running clock keeps its lag and still never passes real time', () => {
    let real = 1_000_000;
    const clock = new VirtualClock(real - 5000, true, () => real);
    real += 3000;
    expect(clock.now()).toBe(1_000_000 - 2000);
    clock.set(real + 99_999);
    expect(clock.now()).toBe(real);
    real += 10;
    expect(clock.now()).toBe(real);
  });
});

describe('replay', () => {
  it('serves the files of a folder in name order, whatever the query, then generated listening again', async () => {
    const s = await login(sim);
    const files = readdirSync(PAGES)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const result = await control(sim, 'POST', `/users/${s.userId}/replay`, { dir: PAGES });
    expect(result.remaining).toBe(files.length);
    for (const file of files) {
      const res = await api(sim, s.accessToken, `${RP}?limit=50&after=1`);
      expect(res.status).toBe(200);
      expect(res.text).toBe(readFileSync(join(PAGES, file), 'utf8'));
    }
    expect((await control(sim, 'GET', `/users/${s.userId}/replay`)).remaining).toBe(0);
    const generated = await api(sim, s.accessToken, `${RP}?limit=50`);
    expect(generated.body.href.startsWith(sim.url)).toBe(true);
  });

  it('replays inline pages for one user only', async () => {
    const x = await login(sim);
    const other = await login(sim);
    const page = { items: [], next: null, cursors: null, limit: 50, href: 'https://api.spotify.com/x' };
    await control(sim, 'POST', `/users/${x.userId}/replay`, { pages: [page] });
    expect((await api(sim, other.accessToken, RP)).body.href.startsWith(sim.url)).toBe(true);
    expect((await api(sim, x.accessToken, RP)).body).toEqual(page);
  });
});
