/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   Tests read Spotify-shaped JSON as it comes over the wire; asserting on it is the point. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { api, authorize, basic, control, login, start, token } from './helpers.ts';

const RP = '/v1/me/player/recently-played';
let sim: Simulator;
let a: { accessToken: string; refreshToken: string; userId: string };
let b: { accessToken: string; refreshToken: string; userId: string };

beforeAll(async () => {
  sim = await start({ users: 2, controlToken: 'ctl-secret' });
  a = await login(sim);
  b = await login(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await control(sim, 'DELETE', '/faults');
});

describe('faults', () => {
  it('429 with Retry-After, app-wide, for a count of responses, then cleared', async () => {
    await control(sim, 'POST', '/faults', { kind: 'rate-limit', retryAfterSec: 7, count: 2 });
    for (const who of [a, b]) {
      const res = await api(sim, who.accessToken, RP);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.body).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    }
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
    expect(await control(sim, 'GET', '/faults')).toEqual([]);
  });

  it('per-user faults hit only that user', async () => {
    await control(sim, 'POST', '/faults', {
      kind: 'server-error',
      status: 502,
      userId: a.userId,
      endpoint: 'me',
      count: 1,
    });
    expect((await api(sim, b.accessToken, '/v1/me')).status).toBe(200);
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
    const hit = await api(sim, a.accessToken, '/v1/me');
    expect(hit.status).toBe(502);
    expect(hit.body).toEqual({ error: { status: 502, message: 'Bad gateway' } });
    expect((await api(sim, a.accessToken, '/v1/me')).status).toBe(200);
  });

  it('QUOTA_EXCEEDED with and without Retry-After', async () => {
    await control(sim, 'POST', '/faults', { kind: 'quota-exceeded', count: 1 });
    const bare = await api(sim, a.accessToken, RP);
    expect(bare.status).toBe(429);
    expect(bare.headers.get('retry-after')).toBeNull();
    expect(bare.body).toEqual({ error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } });
    await control(sim, 'POST', '/faults', { kind: 'quota-exceeded', count: 1, retryAfterSec: 60 });
    expect((await api(sim, a.accessToken, RP)).headers.get('retry-after')).toBe('60');
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
  });

  it('a 200 body that is not JSON, a 403, a 401, a slow answer', async () => {
    await control(sim, 'POST', '/faults', { kind: 'not-json', count: 1, endpoint: 'recently-played' });
    const html = await api(sim, a.accessToken, RP);
    expect(html.status).toBe(200);
    expect(html.body).toBeUndefined();
    expect(html.text).toContain('<html>');
    await control(sim, 'POST', '/faults', { kind: 'forbidden', count: 1 });
    expect((await api(sim, a.accessToken, RP)).body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    await control(sim, 'POST', '/faults', { kind: 'unauthorized', count: 1, userId: a.userId });
    expect((await api(sim, a.accessToken, RP)).status).toBe(401);
    const slow = await control(sim, 'POST', '/faults', { kind: 'slow', delayMs: 50 });
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
    expect((await control(sim, 'GET', '/faults'))[0]).toMatchObject({ id: slow.id, delivered: 1 });
    await control(sim, 'DELETE', `/faults/${slow.id}`);
    expect(await control(sim, 'GET', '/faults')).toEqual([]);
  });

  it('a fault with a duration ends by itself; DELETE clears one', async () => {
    await control(sim, 'POST', '/faults', { kind: 'server-error', durationMs: 1000 });
    expect((await api(sim, a.accessToken, RP)).status).toBe(503);
    expect((await api(sim, a.accessToken, RP)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
    const f = await control(sim, 'POST', '/faults', { kind: 'server-error' });
    expect((await api(sim, a.accessToken, RP)).status).toBe(503);
    await control(sim, 'DELETE', `/faults/${f.id}`);
    expect((await api(sim, a.accessToken, RP)).status).toBe(200);
  });

  it('token endpoint faults: invalid_grant for one user, 429 and 5xx for the app', async () => {
    const refresh = (who: typeof a) =>
      token(sim, { grant_type: 'refresh_token', refresh_token: who.refreshToken }, basic());
    await control(sim, 'POST', '/faults', { kind: 'invalid-grant', userId: a.userId, count: 1 });
    expect((await refresh(b)).status).toBe(200);
    expect((await refresh(a)).body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
    expect((await refresh(a)).status).toBe(200);
    await control(sim, 'POST', '/faults', { kind: 'rate-limit', endpoint: 'token', retryAfterSec: 3, count: 1 });
    const limited = await refresh(b);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    await control(sim, 'POST', '/faults', { kind: 'server-error', endpoint: 'token', status: 500, count: 1 });
    expect((await refresh(b)).status).toBe(500);
    expect((await refresh(b)).status).toBe(200);
  });

  it('403 Insufficient client scope without user-read-recently-played', async () => {
    const auth = await authorize(sim, { scope: 'user-read-private' });
    const code = auth.location?.searchParams.get('code') ?? '';
    const t = await token(
      sim,
      { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:8081/callback' },
      basic(),
    );
    const res = await api(sim, t.body.access_token, RP);
    expect(res.body).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    expect((await api(sim, t.body.access_token, '/v1/me')).status).toBe(200);
  });
});

describe('control API', () => {
  it('counts calls per endpoint and per user, and resets', async () => {
    await control(sim, 'DELETE', '/calls');
    await api(sim, a.accessToken, RP);
    await api(sim, a.accessToken, '/v1/me');
    await api(sim, b.accessToken, RP);
    const calls = await control(sim, 'GET', '/calls');
    expect(calls.total).toEqual({ authorize: 0, token: 0, me: 1, 'recently-played': 2 });
    expect(calls.byUser[a.userId]).toEqual({ authorize: 0, token: 0, me: 1, 'recently-played': 1 });
    expect((await control(sim, 'DELETE', '/calls')).total['recently-played']).toBe(0);
  });

  it('needs the control token when one is set', async () => {
    const res = await fetch(`${sim.url}/control/clock`);
    expect(res.status).toBe(401);
  });
});
