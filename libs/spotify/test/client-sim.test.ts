// The client over real HTTP against the simulator: the OAuth grants as strict as Spotify, every fault the
// simulator delivers turned into the right typed outcome, `next` paging checked against the simulator's ledger,
// and the real-shaped pages replayed through the client.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RateLimitedError, ReauthRequiredError, TransientError } from '@playledger/common';
import { AccessTokenRejectedError, type RecentlyPlayedPage, type SpotifyClient } from '../src/index.ts';
import { PAGES_DIR } from './contract-support.ts';
import { callCounts, makeClient } from './support.ts';
import {
  REDIRECT_URI,
  SIM_CLIENT_ID,
  SIM_CLIENT_SECRET,
  authorize,
  clearFaults,
  control,
  fault,
  ledger,
  login,
  startSimulator,
  type Simulator,
} from './sim-support.ts';

let sim: Simulator;
const QUOTA_PAUSE_MS = 600_000;
const simClient = (extra: Parameters<typeof makeClient>[1] = {}) =>
  makeClient(sim.url, {
    clientId: SIM_CLIENT_ID,
    clientSecret: SIM_CLIENT_SECRET,
    quotaPauseMs: QUOTA_PAUSE_MS,
    ...extra,
  });

beforeAll(async () => {
  sim = await startSimulator({ seed: 'client', users: 4 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await clearFaults(sim);
});

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('OAuth against the simulator', () => {
  it('code + PKCE → tokens; /v1/me gives the account key', async () => {
    const { client } = simClient();
    const grant = await login(sim, client, 'sim-user-1');
    expect(grant.refreshToken.length).toBeGreaterThan(10);
    expect(grant.expiresInSeconds).toBe(3600);
    const me = await client.getMe(grant.accessToken);
    expect(me.profile.id).toBe('sim-user-1');
    expect(me.key).toBe(me.profile.account_id ?? me.profile.id);
  });

  it('a code is single-use; a wrong code_verifier is refused: invalid_grant → ReauthRequiredError', async () => {
    const { client } = simClient();
    const { code, verifier } = await authorize(sim, client, 'sim-user-1');
    const wrong = await caught(client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: `${verifier}x` }));
    expect(wrong).toBeInstanceOf(ReauthRequiredError);
    const again = await authorize(sim, client, 'sim-user-1');
    await client.exchangeCode({ code: again.code, redirectUri: REDIRECT_URI, codeVerifier: again.verifier });
    const reused = await caught(
      client.exchangeCode({ code: again.code, redirectUri: REDIRECT_URI, codeVerifier: again.verifier }),
    );
    expect(reused).toBeInstanceOf(ReauthRequiredError);
  });

  it('a wrong client secret → PermanentError (invalid_client)', async () => {
    const { client } = simClient();
    const { refreshToken } = await login(sim, client, 'sim-user-1');
    const { client: wrong } = simClient({ clientSecret: 'not-the-secret-at-all' });
    const e = await caught(wrong.refresh({ refreshToken }));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).rule).toBe('spotify-invalid-client');
  });

  it('refresh without rotation says none was returned; with rotation returns the new one', async () => {
    const { client } = simClient();
    const { refreshToken } = await login(sim, client, 'sim-user-2');
    const kept = await client.refresh({ refreshToken, userId: 'sim-user-2' });
    expect(kept.newRefreshToken).toBeNull();
    expect((await client.getMe(kept.accessToken)).profile.id).toBe('sim-user-2');

    await control(sim, 'PATCH', '/users/sim-user-2', { rotateRefreshTokens: 'revoke-old' });
    const rotated = await client.refresh({ refreshToken, userId: 'sim-user-2' });
    expect(rotated.newRefreshToken).toEqual(expect.any(String));
    expect(rotated.newRefreshToken).not.toBe(refreshToken);
    // The old one is gone now: the caller must have stored the new one.
    const old = await caught(client.refresh({ refreshToken, userId: 'sim-user-2' }));
    expect(old).toBeInstanceOf(ReauthRequiredError);
    expect((old as ReauthRequiredError).userId).toBe('sim-user-2');
    const next = await client.refresh({ refreshToken: rotated.newRefreshToken!, userId: 'sim-user-2' });
    expect(next.accessToken).toEqual(expect.any(String));
    await control(sim, 'PATCH', '/users/sim-user-2', { rotateRefreshTokens: 'off' });
  });

  it('the six-month end and a revocation → ReauthRequiredError', async () => {
    const { client } = simClient();
    const first = await login(sim, client, 'sim-user-3');
    await control(sim, 'POST', '/users/sim-user-3/expire-refresh-tokens');
    expect(await caught(client.refresh({ refreshToken: first.refreshToken, userId: 'sim-user-3' }))).toBeInstanceOf(
      ReauthRequiredError,
    );
    const second = await login(sim, client, 'sim-user-3'); // re-authorization starts a new lifetime
    await client.refresh({ refreshToken: second.refreshToken });
    await control(sim, 'POST', '/users/sim-user-3/revoke');
    expect(await caught(client.refresh({ refreshToken: second.refreshToken }))).toBeInstanceOf(ReauthRequiredError);
  });

  it('token endpoint faults: invalid-grant, 429, 5xx, not JSON (no sample logged)', async () => {
    const { client, log, metrics } = simClient();
    const { refreshToken } = await login(sim, client, 'sim-user-1');
    await fault(sim, { kind: 'invalid-grant', endpoint: 'token', count: 1 });
    expect(await caught(client.refresh({ refreshToken }))).toBeInstanceOf(ReauthRequiredError);
    await fault(sim, { kind: 'rate-limit', endpoint: 'token', count: 1, retryAfterSec: 2 });
    expect(await caught(client.refresh({ refreshToken }))).toBeInstanceOf(RateLimitedError);
    await fault(sim, { kind: 'server-error', endpoint: 'token', count: 1 });
    expect(await caught(client.refresh({ refreshToken }))).toBeInstanceOf(TransientError);
    await fault(sim, { kind: 'not-json', endpoint: 'token', count: 1, body: '<html>maintenance SAMPLE-MARK</html>' });
    expect(await caught(client.refresh({ refreshToken }))).toBeInstanceOf(TransientError);
    expect(log.text()).not.toContain('SAMPLE-MARK');
    expect((await client.refresh({ refreshToken })).accessToken).toEqual(expect.any(String)); // cleared
    const counts = await callCounts(metrics, 'token');
    expect(counts).toEqual({ '200': 3, '400': 1, '429': 1, '503': 1 }); // 200s: the code, the not-JSON body, the last refresh
  });
});

describe('Web API outcomes against the simulator', () => {
  let client: SpotifyClient;
  let accessToken: string;
  let refreshToken: string;
  let sim1: ReturnType<typeof simClient>;
  beforeAll(async () => {
    sim1 = simClient();
    client = sim1.client;
    ({ accessToken, refreshToken } = await login(sim, client, 'sim-user-4'));
  });

  it('401 after the access token expires → AccessTokenRejectedError; refresh once, then the retry works', async () => {
    await control(sim, 'POST', '/users/sim-user-4/expire-access-tokens');
    const e = await caught(client.getRecentlyPlayed(accessToken));
    expect(e).toBeInstanceOf(AccessTokenRejectedError);
    const fresh = await client.refresh({ refreshToken });
    accessToken = fresh.accessToken;
    expect((await client.getRecentlyPlayed(accessToken)).items.length).toBeGreaterThan(0);
  });

  it('the unauthorized fault → AccessTokenRejectedError', async () => {
    await fault(sim, { kind: 'unauthorized', count: 1 });
    expect(await caught(client.getMe(accessToken))).toBeInstanceOf(AccessTokenRejectedError);
  });

  it('403 → PermanentError naming both causes', async () => {
    await fault(sim, { kind: 'forbidden', count: 1, endpoint: 'recently-played' });
    const e = await caught(client.getRecentlyPlayed(accessToken));
    expect(e).toBeInstanceOf(PermanentError);
    expect(e.message).toMatch(/allow-list.*removed for development-mode apps/s);
  });

  it('a token without the recently-played scope → 403 PermanentError', async () => {
    const narrow = await login(sim, client, 'sim-user-4', ['user-read-private']);
    expect(await caught(client.getRecentlyPlayed(narrow.accessToken))).toBeInstanceOf(PermanentError);
  });

  it('429 with Retry-After → RateLimitedError(rate-limit) until about then', async () => {
    await fault(sim, { kind: 'rate-limit', count: 1, retryAfterSec: 9 });
    const before = Date.now();
    const e = (await caught(client.getRecentlyPlayed(accessToken))) as RateLimitedError;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.reason).toBe('rate-limit');
    expect(e.until.getTime()).toBeGreaterThanOrEqual(before + 9000);
    expect(e.until.getTime()).toBeLessThanOrEqual(Date.now() + 9000);
  });

  it('429 QUOTA_EXCEEDED: the configured pause without Retry-After, Retry-After when sent', async () => {
    await fault(sim, { kind: 'quota-exceeded', count: 1 });
    const before = Date.now();
    const e = (await caught(client.getRecentlyPlayed(accessToken))) as RateLimitedError;
    expect(e.reason).toBe('quota-exceeded');
    expect(e.until.getTime()).toBeGreaterThanOrEqual(before + QUOTA_PAUSE_MS);
    await fault(sim, { kind: 'quota-exceeded', count: 1, retryAfterSec: 30 });
    const e2 = (await caught(client.getRecentlyPlayed(accessToken))) as RateLimitedError;
    expect(e2.reason).toBe('quota-exceeded');
    expect(e2.until.getTime()).toBeLessThan(Date.now() + 31_000);
  });

  it('5xx → TransientError', async () => {
    await fault(sim, { kind: 'server-error', count: 1, status: 500 });
    expect(await caught(client.getRecentlyPlayed(accessToken))).toBeInstanceOf(TransientError);
    await fault(sim, { kind: 'server-error', count: 1, status: 503, endpoint: 'me' });
    expect(await caught(client.getMe(accessToken))).toBeInstanceOf(TransientError);
  });

  it('a slow answer past the timeout → TransientError; then the fault clears', async () => {
    const { client: impatient, metrics } = simClient({ timeoutMs: 200 });
    await fault(sim, { kind: 'slow', count: 1, delayMs: 1500 });
    expect(await caught(impatient.getRecentlyPlayed(accessToken))).toBeInstanceOf(TransientError);
    expect(await callCounts(metrics, 'recently-played')).toEqual({ timeout: 1 });
    expect((await impatient.getRecentlyPlayed(accessToken)).items.length).toBeGreaterThan(0);
  });

  it('200 with a body that is not JSON → TransientError and a short sample in the log', async () => {
    const { client: c, log } = simClient();
    await fault(sim, { kind: 'not-json', count: 1 });
    expect(await caught(c.getRecentlyPlayed(accessToken))).toBeInstanceOf(TransientError);
    const line = log.lines.map((l) => JSON.parse(l) as { sample?: string }).find((l) => l.sample !== undefined);
    expect(line?.sample?.length).toBeGreaterThan(0);
    expect(line?.sample?.length).toBeLessThanOrEqual(200);
  });

  it('counts every call by endpoint and outcome', async () => {
    const { client: c, metrics } = simClient();
    await c.getRecentlyPlayed(accessToken);
    await fault(sim, { kind: 'rate-limit', count: 1 });
    await caught(c.getRecentlyPlayed(accessToken));
    await fault(sim, { kind: 'quota-exceeded', count: 1 });
    await caught(c.getRecentlyPlayed(accessToken));
    expect(await callCounts(metrics, 'recently-played')).toEqual({ '200': 1, '429': 1, '429-quota-exceeded': 1 });
  });
});

describe('paging and replay against the simulator', () => {
  it('following `next` walks back through exactly the newest 50 plays of the ledger', async () => {
    const { client } = simClient();
    const { accessToken } = await login(sim, client, 'sim-user-1');
    const pages = [];
    for await (const page of client.pages(accessToken, { limit: 10 })) pages.push(page);
    expect(pages.map((p) => p.items.length)).toEqual([10, 10, 10, 10, 10, 0]);
    const seen = pages.flatMap((p) => p.items.map((i) => `${i.track.uri}@${Date.parse(i.played_at)}`));
    const truth = (await ledger(sim, 'sim-user-1')).map((p) => `${p.trackUri}@${p.playedAtMs}`);
    // duplicate echo items are one ledger play; every item is a real play, newest first
    expect(truth.slice(-new Set(seen).size).reverse()).toEqual([...new Set(seen)]);
  });

  it('getRecentlyPlayedRaw: a simulator page has no invalid items', async () => {
    const { client } = simClient();
    const { accessToken } = await login(sim, client, 'sim-user-1');
    const { page, invalidItems } = await client.getRecentlyPlayedRaw(accessToken, { limit: 50 });
    expect(page.items).toHaveLength(50);
    expect(invalidItems).toEqual([]);
  });

  it('after= paging moves forward in time', async () => {
    const { client } = simClient();
    const { accessToken } = await login(sim, client, 'sim-user-1');
    const newest = await client.getRecentlyPlayed(accessToken, { limit: 50 });
    const from = newest.cursors!.before;
    const pages = [];
    for await (const page of client.pages(accessToken, { after: from, limit: 20 })) pages.push(page);
    expect(pages.at(-1)!.items).toHaveLength(0);
    const forward = pages.flatMap((p) => p.items);
    expect(forward.length).toBeGreaterThan(0);
    for (const p of pages.slice(0, -1)) expect(p.next).toContain('after=');
  });

  it('replays the real pages through the client', async () => {
    const { client } = simClient();
    const { accessToken } = await login(sim, client, 'sim-user-1');
    await control(sim, 'POST', '/users/sim-user-1/replay', { dir: PAGES_DIR });
    const names = ['after-duplicates', 'after-mixed-precision', 'before-full', 'empty'];
    const got: RecentlyPlayedPage[] = [];
    for (const _ of names) got.push(await client.getRecentlyPlayed(accessToken));
    expect(got.map((p) => p.items.length)).toEqual([8, 22, 50, 0]);
    const instants = got[0]!.items.map((i) => i.played_at);
    expect(Math.max(...instants.map((t) => instants.filter((u) => u === t).length))).toBe(3); // three at one instant
    expect(got[1]!.items.some((i) => !i.played_at.includes('.'))).toBe(true);
    expect(got[3]).toMatchObject({ cursors: null, next: null });
  });
});
