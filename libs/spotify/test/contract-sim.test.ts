// The contract test, simulator part: every kind of response the simulator gives (full, partial and empty pages, the
// quirks, a development-mode app, replayed real pages, /v1/me, every error) passes the client's own schemas AND the
// OpenAPI file with the live differences applied. The accounts service is not in the OpenAPI file: its bodies are
// checked against the client's token schemas (FACTS 21, 25).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkers } from '../src/index.ts';
import { PAGES_DIR, pageFactProblems, verdict } from './contract-support.ts';
import { makeClient } from './support.ts';
import {
  SIM_CLIENT_ID,
  SIM_CLIENT_SECRET,
  authorize,
  clearFaults,
  control,
  fault,
  login,
  rawGet,
  rawToken,
  startSimulator,
  type Simulator,
} from './sim-support.ts';

const RP = '/v1/me/player/recently-played';
let sim: Simulator;
let token: string;
let refreshToken: string;
const client = () => makeClient(sim.url, { clientId: SIM_CLIENT_ID, clientSecret: SIM_CLIENT_SECRET }).client;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'contract', users: 3 });
  const grant = await login(sim, client(), 'sim-user-1');
  token = grant.accessToken;
  refreshToken = grant.refreshToken;
});
afterAll(async () => {
  await sim?.close();
});

function expectPage(body: unknown) {
  const v = verdict('recently-played', body);
  expect(v.problems).toEqual([]);
  expect(v).toMatchObject({ client: true, yaml: true });
  expect(pageFactProblems(body)).toEqual([]);
  return body as {
    items: { played_at: string; context: unknown; track: { is_local: boolean } }[];
    cursors: unknown;
    next: unknown;
  };
}

function expectError(res: { body: unknown; status: number }, status: number) {
  expect(res.status).toBe(status);
  expect(verdict('error', res.body)).toMatchObject({ client: true, yaml: true });
  expect((res.body as { error: { status: number } }).error.status).toBe(status);
}

describe('recently-played pages from the simulator', () => {
  it('full, partial and empty pages', async () => {
    const full = await rawGet(sim, `${RP}?limit=50`, token);
    expect(full.status).toBe(200);
    const page = expectPage(full.body);
    expect(page.items).toHaveLength(50);
    const cursors = page.cursors as { after: string; before: string };
    const older = expectPage((await rawGet(sim, `${RP}?before=${cursors.before}&limit=50`, token)).body);
    expect(older.items).toHaveLength(0); // only the newest 50 exist
    const partialCursor = Date.parse(page.items[4]!.played_at);
    const partial = expectPage((await rawGet(sim, `${RP}?after=${partialCursor}&limit=50`, token)).body);
    expect(partial.items.length).toBeGreaterThan(0);
    expect(partial.items.length).toBeLessThan(50);
    const empty = expectPage((await rawGet(sim, `${RP}?after=${cursors.after}&limit=50`, token)).body);
    expect(empty).toMatchObject({ items: [], cursors: null, next: null });
    expectPage((await rawGet(sim, RP, token)).body); // default limit
  });

  it('every quirk the generator makes (local file, no milliseconds, contexts, duplicates) passes', async () => {
    const seen = { local: 0, noMillis: 0, context: 0, nullContext: 0, duplicate: 0 };
    for (let round = 0; round < 14 && Object.values(seen).some((n) => n === 0); round++) {
      await control(sim, 'POST', '/clock', { advanceMs: 6 * 3600_000 }); // ~48 new plays at 8 an hour
      const page = expectPage((await rawGet(sim, `${RP}?limit=50`, token)).body);
      const keys = page.items.map((i) => JSON.stringify(i));
      seen.duplicate += keys.length - new Set(keys).size;
      for (const item of page.items) {
        if (item.track.is_local) seen.local++;
        if (!item.played_at.includes('.')) seen.noMillis++;
        if (item.context === null) seen.nullContext++;
        else seen.context++;
      }
    }
    for (const [quirk, n] of Object.entries(seen)) expect(n, quirk).toBeGreaterThan(0);
  });

  it('a development-mode app gets tracks without available_markets and popularity, and they pass', async () => {
    const apps = (await control(sim, 'GET', '/apps')) as { clientId: string; redirectUris: string[] }[];
    const app = apps.find((a) => a.clientId === SIM_CLIENT_ID)!;
    await control(sim, 'PUT', `/apps/${SIM_CLIENT_ID}`, {
      clientSecret: SIM_CLIENT_SECRET,
      redirectUris: app.redirectUris,
      devMode: true,
    });
    try {
      const page = (await rawGet(sim, `${RP}?limit=50`, token)).body as { items: { track: Record<string, unknown> }[] };
      expectPage(page);
      expect(page.items[0]!.track).not.toHaveProperty('available_markets');
      expect(page.items[0]!.track).not.toHaveProperty('popularity');
    } finally {
      await control(sim, 'PUT', `/apps/${SIM_CLIENT_ID}`, {
        clientSecret: SIM_CLIENT_SECRET,
        redirectUris: app.redirectUris,
        devMode: false,
      });
    }
  });

  it('replayed real pages pass', async () => {
    await control(sim, 'POST', '/users/sim-user-1/replay', { dir: PAGES_DIR });
    for (let i = 0; i < 4; i++) expectPage((await rawGet(sim, `${RP}?limit=50`, token)).body);
    expect(await control(sim, 'GET', '/users/sim-user-1/replay')).toEqual({ remaining: 0 });
  });
});

describe('GET /v1/me from the simulator', () => {
  it('passes', async () => {
    const res = await rawGet(sim, '/v1/me', token);
    expect(res.status).toBe(200);
    expect(verdict('me', res.body)).toMatchObject({ client: true, yaml: true });
  });
});

describe('Web API errors from the simulator have the spec error body', () => {
  it('401: no token, unknown token, expired token', async () => {
    expectError(await rawGet(sim, RP, undefined), 401);
    expectError(await rawGet(sim, '/v1/me', 'not-a-token-at-all'), 401);
    const other = await login(sim, client(), 'sim-user-2');
    await control(sim, 'POST', '/users/sim-user-2/expire-access-tokens');
    expectError(await rawGet(sim, RP, other.accessToken), 401);
  });

  it('400: bad limit, both cursors', async () => {
    expectError(await rawGet(sim, `${RP}?limit=0`, token), 400);
    expectError(await rawGet(sim, `${RP}?limit=51`, token), 400);
    expectError(await rawGet(sim, `${RP}?after=1&before=2`, token), 400);
  });

  it('403: a token without the scope, and the forbidden fault', async () => {
    const narrow = await login(sim, client(), 'sim-user-3', ['user-read-private']);
    expectError(await rawGet(sim, RP, narrow.accessToken), 403);
    await fault(sim, { kind: 'forbidden', count: 1 });
    const res = await rawGet(sim, '/v1/me', token);
    expectError(res, 403);
    expect(res.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
  });

  it('429 rate limit (Retry-After) and 429 QUOTA_EXCEEDED', async () => {
    await fault(sim, { kind: 'rate-limit', count: 1, retryAfterSec: 4 });
    const limited = await rawGet(sim, RP, token);
    expectError(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('4');
    await fault(sim, { kind: 'quota-exceeded', count: 1 });
    const quota = await rawGet(sim, RP, token);
    expectError(quota, 429);
    expect((quota.body as { error: { reason?: string } }).error.reason).toBe('QUOTA_EXCEEDED');
  });

  it('5xx', async () => {
    await fault(sim, { kind: 'server-error', count: 1, status: 502 });
    expectError(await rawGet(sim, RP, token), 502);
    await fault(sim, { kind: 'server-error', count: 1 });
    expectError(await rawGet(sim, RP, token), 503);
  });

  it('a body that is not JSON is not a page', async () => {
    await fault(sim, { kind: 'not-json', count: 1 });
    const res = await rawGet(sim, RP, token);
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    await clearFaults(sim);
  });
});

describe('accounts service bodies (not in the OpenAPI file) pass the client token schemas', () => {
  it('success: code exchange and refresh', async () => {
    const { code, verifier } = await authorize(sim, client(), 'sim-user-1');
    const exchanged = await rawToken(sim, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1/callback',
      code_verifier: verifier,
    });
    expect(exchanged.status).toBe(200);
    expect(checkers.token.check(exchanged.body)).toBe(true);
    const refreshed = await rawToken(sim, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(refreshed.status).toBe(200);
    expect(checkers.token.check(refreshed.body)).toBe(true);
  });

  it('errors: invalid_grant, invalid_client, invalid_request, unsupported_grant_type', async () => {
    const cases = [
      await rawToken(sim, { grant_type: 'refresh_token', refresh_token: 'unknown-refresh-token' }),
      await rawToken(sim, { grant_type: 'refresh_token', refresh_token: refreshToken }, 'wrong-secret'),
      await rawToken(sim, { grant_type: 'refresh_token' }),
      await rawToken(sim, { grant_type: 'password' }),
    ];
    expect(cases.map((c) => (c.body as { error: string }).error)).toEqual([
      'invalid_grant',
      'invalid_client',
      'invalid_request',
      'unsupported_grant_type',
    ]);
    for (const c of cases) {
      expect(c.status).toBe(400);
      expect(checkers.oauthError.check(c.body)).toBe(true);
    }
  });
});
