// The client against a tiny real HTTP server scripted per test: the cases a simulator cannot easily give
// (any status, any body, a server that never answers, a closed port) and the exact requests the client sends.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RateLimitedError, ReauthRequiredError, TransientError, errorKind } from '@playledger/common';
import { AccessTokenRejectedError, createPkcePair, createState, pkceChallenge } from '../src/index.ts';
import { PAGES_DIR } from './contract-support.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  callCounts,
  json,
  makeClient,
  startLocalServer,
  type LocalServer,
} from './support.ts';

const ACCESS = 'access-token-AAAAAAAAAAAAAAAA';
const REFRESH = 'refresh-token-RRRRRRRRRRRRRRRR';
const page = (name: string) => JSON.parse(readFileSync(`${PAGES_DIR}/${name}`, 'utf8')) as Record<string, unknown>;

let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(async () => {
  await server.close();
});

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('token endpoint', () => {
  it('exchanges a code as a confidential client with the PKCE verifier', async () => {
    const { client } = makeClient(server.url);
    const pkce = createPkcePair();
    server.handle((_req, res) =>
      json(res, 200, {
        access_token: ACCESS,
        token_type: 'Bearer',
        scope: 'user-read-recently-played user-read-private',
        expires_in: 3600,
        refresh_token: REFRESH,
      }),
    );
    const before = Date.now();
    const grant = await client.exchangeCode({
      code: 'the-code-123456',
      redirectUri: 'http://127.0.0.1/cb',
      codeVerifier: pkce.verifier,
    });
    const req = server.seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/token');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code-123456',
      redirect_uri: 'http://127.0.0.1/cb',
      code_verifier: pkce.verifier,
    });
    expect(grant).toMatchObject({
      accessToken: ACCESS,
      refreshToken: REFRESH,
      tokenType: 'Bearer',
      expiresInSeconds: 3600,
    });
    expect(grant.scopes).toEqual(['user-read-recently-played', 'user-read-private']);
    expect(grant.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 3600_000);
  });

  it('refresh: returns a rotated refresh token, or says none came (keep the old one)', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) =>
      json(res, 200, {
        access_token: ACCESS,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'rotated-token-XYZXYZXYZ',
      }),
    );
    expect((await client.refresh({ refreshToken: REFRESH })).newRefreshToken).toBe('rotated-token-XYZXYZXYZ');
    expect(Object.fromEntries(new URLSearchParams(server.seen.at(-1)!.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
    });
    server.handle((_req, res) =>
      json(res, 200, { access_token: ACCESS, token_type: 'Bearer', expires_in: 3600, scope: '' }),
    );
    const grant = await client.refresh({ refreshToken: REFRESH });
    expect(grant.newRefreshToken).toBeNull();
    expect(grant.accessToken).toBe(ACCESS);
  });

  it('a token answer that fails the schema is permanent, and names the path, not the values', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 200, { access_token: ACCESS, token_type: 'Bearer', expires_in: '3600' }));
    const e = await caught(client.refresh({ refreshToken: REFRESH }));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).rule).toBe('spotify-token-schema');
    expect(e.message).toContain('/expires_in');
    expect(e.message).not.toContain(ACCESS);
  });

  it('an authorization_code answer without refresh_token is permanent', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 200, { access_token: ACCESS, token_type: 'Bearer', expires_in: 3600 }));
    const e = await caught(
      client.exchangeCode({ code: 'c-123456789', redirectUri: 'http://x/cb', codeVerifier: 'v'.repeat(43) }),
    );
    expect(e).toBeInstanceOf(PermanentError);
  });

  it('invalid_grant → ReauthRequiredError for the user; invalid_client → PermanentError', async () => {
    const { client, metrics } = makeClient(server.url);
    server.handle((_req, res) =>
      json(res, 400, { error: 'invalid_grant', error_description: 'Refresh token revoked' }),
    );
    const e = await caught(client.refresh({ refreshToken: REFRESH, userId: 'user-7' }));
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect((e as ReauthRequiredError).userId).toBe('user-7');
    expect(e.message).toContain('Refresh token revoked');
    server.handle((_req, res) =>
      json(res, 400, { error: 'invalid_client', error_description: 'Invalid client secret' }),
    );
    const e2 = await caught(client.refresh({ refreshToken: REFRESH }));
    expect(e2).toBeInstanceOf(PermanentError);
    expect((e2 as PermanentError).rule).toBe('spotify-invalid-client');
    server.handle((_req, res) =>
      json(res, 400, { error: 'invalid_request', error_description: 'refresh_token must be supplied' }),
    );
    expect(errorKind(await caught(client.refresh({ refreshToken: REFRESH })))).toBe('permanent');
    expect(await callCounts(metrics, 'token')).toEqual({ '400': 3 });
  });

  it('5xx, 429 and a body that is not JSON from the accounts service; no sample of it is logged', async () => {
    const { client, log } = makeClient(server.url);
    server.handle((_req, res) => json(res, 503, { error: 'server_error' }));
    expect(await caught(client.refresh({ refreshToken: REFRESH }))).toBeInstanceOf(TransientError);
    server.handle((_req, res) => json(res, 429, { error: 'rate_limited' }, { 'retry-after': '5' }));
    const limited = await caught(client.refresh({ refreshToken: REFRESH }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).reason).toBe('rate-limit');
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>SECRETISH-BODY access_token=zzz</html>');
    });
    expect(await caught(client.refresh({ refreshToken: REFRESH }))).toBeInstanceOf(TransientError);
    expect(log.text()).toContain('not JSON');
    expect(log.text()).not.toContain('SECRETISH-BODY');
  });
});

describe('Web API outcomes', () => {
  it('401 → AccessTokenRejectedError (a TransientError: refresh once, then retry)', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) =>
      json(res, 401, { error: { status: 401, message: 'Missing/invalid/expired access token' } }),
    );
    const e = await caught(client.getRecentlyPlayed(ACCESS));
    expect(e).toBeInstanceOf(AccessTokenRejectedError);
    expect(e).toBeInstanceOf(TransientError);
    expect(e.name).toBe('AccessTokenRejectedError');
    expect(server.seen.at(-1)!.headers.authorization).toBe(`Bearer ${ACCESS}`);
  });

  it('403 → PermanentError naming both causes', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 403, { error: { status: 403, message: 'Forbidden' } }));
    const e = await caught(client.getMe(ACCESS));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).rule).toBe('spotify-forbidden');
    expect(e.message).toMatch(/allow-list/);
    expect(e.message).toMatch(/removed for development-mode apps/);
  });

  it('429 with Retry-After → RateLimitedError(rate-limit) until then', async () => {
    const now = 1_750_000_000_000;
    const { client, metrics } = makeClient(server.url, { now: () => now });
    server.handle((_req, res) =>
      json(res, 429, { error: { status: 429, message: 'API rate limit exceeded' } }, { 'retry-after': '7' }),
    );
    const e = (await caught(client.getRecentlyPlayed(ACCESS))) as RateLimitedError;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.reason).toBe('rate-limit');
    expect(e.until.getTime()).toBe(now + 7000);
    expect(await callCounts(metrics, 'recently-played')).toEqual({ '429': 1 });
  });

  it('429 QUOTA_EXCEEDED → RateLimitedError(quota-exceeded): Retry-After if sent, else the configured pause', async () => {
    const now = 1_750_000_000_000;
    const { client, metrics } = makeClient(server.url, { now: () => now, quotaPauseMs: 600_000 });
    const body = { error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } };
    server.handle((_req, res) => json(res, 429, body));
    const e = (await caught(client.getRecentlyPlayed(ACCESS))) as RateLimitedError;
    expect(e.reason).toBe('quota-exceeded');
    expect(e.until.getTime()).toBe(now + 600_000);
    server.handle((_req, res) => json(res, 429, body, { 'retry-after': '120' }));
    const e2 = (await caught(client.getRecentlyPlayed(ACCESS))) as RateLimitedError;
    expect(e2.reason).toBe('quota-exceeded');
    expect(e2.until.getTime()).toBe(now + 120_000);
    expect(await callCounts(metrics, 'recently-played')).toEqual({ '429-quota-exceeded': 2 });
  });

  it.each([500, 502, 503])('%i → TransientError', async (status) => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, status, { error: { status, message: 'Service unavailable' } }));
    const e = await caught(client.getRecentlyPlayed(ACCESS));
    expect(errorKind(e)).toBe('transient');
    expect(e).not.toBeInstanceOf(AccessTokenRejectedError);
  });

  it('200 with an HTML body → TransientError, and a sample of at most 200 characters is logged', async () => {
    const { client, log } = makeClient(server.url);
    const html = `<!DOCTYPE html><html><body>${'upstream maintenance '.repeat(40)}</body></html>`;
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    });
    expect(await caught(client.getRecentlyPlayed(ACCESS))).toBeInstanceOf(TransientError);
    const line = log.lines.map((l) => JSON.parse(l) as { msg: string; sample?: string }).find((l) => l.sample);
    expect(line?.msg).toMatch(/not JSON/);
    expect(line?.sample).toBe(html.slice(0, 200));
  });

  it('a response failing the schema → PermanentError with the path', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 200, { ...page('after-duplicates.json'), total: 8 }));
    const e = await caught(client.getRecentlyPlayed(ACCESS));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).rule).toBe('spotify-response-schema');
    expect(e.message).toContain('/total');
    const broken = page('before-full.json') as { items: { track: Record<string, unknown> }[] };
    broken.items[4]!.track.duration_ms = '1000';
    server.handle((_req, res) => json(res, 200, broken));
    expect((await caught(client.getRecentlyPlayed(ACCESS))).message).toContain('/items/4/track/duration_ms');
  });

  it('getRecentlyPlayedRaw: a bad item is reported, not thrown; a bad envelope is thrown', async () => {
    const { client } = makeClient(server.url);
    const bad = page('before-full.json') as { items: { track: Record<string, unknown> }[] };
    bad.items[4]!.track.duration_ms = '1000';
    server.handle((_req, res) => json(res, 200, bad));
    const { page: got, invalidItems } = await client.getRecentlyPlayedRaw(ACCESS);
    expect(got.items).toHaveLength(50);
    expect(invalidItems.map((i) => i.index)).toEqual([4]);
    expect(invalidItems[0]!.problems[0]!.path).toBe('/track/duration_ms');
    server.handle((_req, res) => json(res, 200, { ...page('empty.json'), total: 0 }));
    const e = await caught(client.getRecentlyPlayedRaw(ACCESS));
    expect(e).toBeInstanceOf(PermanentError);
    expect(e.message).toContain('/total');
  });

  it('other 4xx → PermanentError; a 4xx whose body is not JSON (not from Spotify itself) → TransientError', async () => {
    const { client, log } = makeClient(server.url);
    server.handle((_req, res) => json(res, 400, { error: { status: 400, message: 'Invalid limit' } }));
    const e = await caught(client.getRecentlyPlayed(ACCESS));
    expect(e).toBeInstanceOf(PermanentError);
    expect(e.message).toContain('Invalid limit');
    server.handle((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>proxy says no</html>');
    });
    expect(await caught(client.getMe(ACCESS))).toBeInstanceOf(TransientError);
    expect(log.text()).toContain('proxy says no');
  });

  it('a server that does not answer in time → TransientError (timeout counted)', async () => {
    const { client, metrics } = makeClient(server.url, { timeoutMs: 150 });
    server.handle(() => undefined); // never answers
    const e = await caught(client.getRecentlyPlayed(ACCESS));
    expect(e).toBeInstanceOf(TransientError);
    expect(e.message).toMatch(/150 ms/);
    expect(await callCounts(metrics, 'recently-played')).toEqual({ timeout: 1 });
  });

  it('nothing listening → TransientError (network error counted)', async () => {
    const closed = await startLocalServer();
    await closed.close();
    const { client, metrics } = makeClient(closed.url);
    expect(await caught(client.getMe(ACCESS))).toBeInstanceOf(TransientError);
    expect(await caught(client.refresh({ refreshToken: REFRESH }))).toBeInstanceOf(TransientError);
    expect(await callCounts(metrics, 'me')).toEqual({ 'network-error': 1 });
  });

  it('bad arguments are refused before any call', async () => {
    const { client } = makeClient(server.url);
    const count = server.seen.length;
    for (const query of [{ limit: 0 }, { limit: 51 }, { limit: 2.5 }, { after: 1, before: 2 }, { after: 'x' }]) {
      expect(await caught(client.getRecentlyPlayed(ACCESS, query))).toBeInstanceOf(PermanentError);
    }
    expect(server.seen.length).toBe(count);
  });
});

describe('reading', () => {
  it('getMe: the user key is account_id, else id', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) =>
      json(res, 200, { id: 'old-id', account_id: 'aB3dE5', display_name: null, type: 'user' }),
    );
    expect((await client.getMe(ACCESS)).key).toBe('aB3dE5');
    expect(server.seen.at(-1)!.url).toBe('/v1/me');
    server.handle((_req, res) => json(res, 200, { id: 'old-id', display_name: 'X' }));
    expect((await client.getMe(ACCESS)).key).toBe('old-id');
  });

  it('replays the real pages and follows `next` on the configured host (never on the one in the page)', async () => {
    const { client, metrics } = makeClient(server.url);
    const first = page('before-full.json');
    const bodies = [first, page('empty.json')];
    server.handle((_req, res) => json(res, 200, bodies.shift()));
    const start = server.seen.length;
    const got = [];
    for await (const p of client.pages(ACCESS, { before: 1647409226000 })) got.push(p);
    expect(got.map((p) => p.items.length)).toEqual([50, 0]);
    const urls = server.seen.slice(start).map((r) => r.url);
    expect(urls).toEqual([
      '/v1/me/player/recently-played?before=1647409226000&limit=50',
      '/v1/me/player/recently-played?before=1646853928293&limit=50',
    ]);
    expect(String(first.next)).toContain('https://api.spotify.com');
    expect(await callCounts(metrics, 'recently-played')).toEqual({ '200': 2 });
  });

  it('pages stops at maxPages', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 200, page('after-duplicates.json')));
    const got = [];
    for await (const p of client.pages(ACCESS, { after: 1746131235000 }, { maxPages: 3 })) got.push(p);
    expect(got).toHaveLength(2); // the second `next` repeats the first: no endless loop
    const limited = [];
    for await (const p of client.pages(ACCESS, {}, { maxPages: 1 })) limited.push(p);
    expect(limited).toHaveLength(1);
  });

  it('each real page parses; played_at with and without milliseconds', async () => {
    const { client } = makeClient(server.url);
    server.handle((_req, res) => json(res, 200, page('after-mixed-precision.json')));
    const p = await client.getRecentlyPlayed(ACCESS, { after: 1700539427000 });
    expect(p.items.some((i) => !i.played_at.includes('.'))).toBe(true);
    expect(p.cursors).toEqual({ after: '1700542955422', before: '1700539554679' });
  });
});

describe('secrets', () => {
  it('never logs tokens, codes, verifiers or the client secret', async () => {
    const { client, log } = makeClient(server.url);
    const pkce = createPkcePair();
    server.handle((req, res) => {
      if (req.url === '/api/token')
        json(res, 400, { error: 'invalid_grant', error_description: 'Invalid authorization code' });
      else json(res, 200, { id: 'u', display_name: 'U' });
    });
    await caught(
      client.exchangeCode({ code: 'code-SECRET-42424242', redirectUri: 'http://x/cb', codeVerifier: pkce.verifier }),
    );
    await client.getMe(ACCESS);
    const text = log.text();
    for (const secret of ['code-SECRET-42424242', pkce.verifier, ACCESS, CLIENT_SECRET])
      expect(text).not.toContain(secret);
  });

  it('PKCE and state helpers', () => {
    const pkce = createPkcePair();
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(pkce.challenge).toBe(pkceChallenge(pkce.verifier));
    // RFC 7636 appendix B
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    expect(createState()).not.toBe(createState());
    const { client } = makeClient('http://accounts.example');
    const url = new URL(
      client.authorizeUrl({ redirectUri: 'http://127.0.0.1/cb', scopes: ['a', 'b'], state: 's1', codeChallenge: 'ch' }),
    );
    expect(url.pathname).toBe('/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1/cb',
      scope: 'a b',
      state: 's1',
      code_challenge_method: 'S256',
      code_challenge: 'ch',
    });
  });
});
