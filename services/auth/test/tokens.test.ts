// The token endpoint across two auth processes: single refresh, forced refresh, rotation, invalid_grant, re-login,
// headless set-up, nothing at rest, nothing in the logs. Real Redis, real PostgreSQL, the simulator over HTTP.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  PermanentError,
  QueueNames,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
  createLogger,
  createSecretBox,
  fetchAccessToken,
  scheduledUsers,
  type SecretBox,
} from '@playledger/common';
import { createStore, type Store } from '@playledger/store';
import { startSimulator, type Simulator } from '@playledger/spotify-sim';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { authKeys } from '../src/keys.ts';
import {
  LogCapture,
  browserLogin,
  SIM_CLIENT,
  authEnv,
  control,
  dumpDatabase,
  dumpRedis,
  findSecrets,
  startAuth,
  testKeys,
  tokenCalls,
  tokensHeldByAuth,
  type AuthProcess,
} from './harness.ts';

const logs = new LogCapture();
const secrets = new Map<string, string>();
let sim: Simulator;
let db: TestDatabase;
let prefix: string;
let secret: string;
let env: Record<string, string>;
let a: AuthProcess;
let b: AuthProcess;
let store: Store;
let queue: Queue;
let redis: Redis;
let box: SecretBox;
let userId: string;

const remember = (label: string, value: string | undefined) => {
  if (value && ![...secrets.values()].includes(value)) secrets.set(`${label} ${secrets.size}`, value);
};

function token(authUrl: string, rejectedToken?: string, who = userId) {
  return fetchAccessToken({ authUrl, secret, userId: who, ...(rejectedToken ? { rejectedToken } : {}) }).then((t) => {
    remember('access token', t.accessToken);
    return t;
  });
}

async function storedRefreshToken(id = userId): Promise<string> {
  const credentials = await store.getCredentials(id);
  const value = box.open(credentials!.refreshToken, `refresh:${id}`);
  remember('refresh token', value);
  return value;
}

async function simAccepts(accessToken: string): Promise<number> {
  return (await fetch(`${sim.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

/** Sends n requests spread over both processes at once; every outcome, in order. */
async function burst(n: number, rejectedToken?: string) {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => token(i % 2 === 0 ? a.url : b.url, rejectedToken)));
}

beforeAll(async () => {
  sim = await startSimulator({ users: 3, port: 0 });
  db = await createTestDatabase('auth_tokens');
  prefix = uniquePrefix('auth-tokens');
  secret = randomBytes(32).toString('hex');
  const keys = testKeys();
  box = createSecretBox(keys);
  env = authEnv({ simUrl: sim.url, databaseUrl: db.url, prefix, keys, secret });
  secrets.set('AUTH_SERVICE_SECRET', secret);
  secrets.set('encryption key', keys.split(':')[1] ?? '');
  secrets.set('client secret', SIM_CLIENT.secret);
  [a, b] = await Promise.all([startAuth(env, logs, 'auth-a'), startAuth(env, logs, 'auth-b')]);
  store = await createStore({ kind: 'postgres', url: db.url, logger: createLogger({ name: 'test', level: 'debug', destination: { write: (l: string) => logs.add('test', l) } }) });
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue(QueueNames.extractions, { connection: redis, prefix });
  await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-1' });
  const { response: login } = await browserLogin(a.url);
  expect(login.status).toBe(200);
  userId = (await store.listUsers())[0]!.userId;
  await storedRefreshToken();
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await queue?.close();
  redis?.disconnect();
  await store?.close();
  await sim?.close();
  await db?.drop();
  if (prefix) await dropPrefix(prefix);
});

describe('POST /internal/token', () => {
  it('refuses a missing or wrong service secret (401) before reading the body', async () => {
    const url = `${a.url}/internal/token`;
    const none = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'unauthorized' });
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret.slice(0, -1)}x` },
      body: '{not json',
    });
    expect(wrong.status).toBe(401);
    await expect(fetchAccessToken({ authUrl: a.url, secret: `${secret}x`, userId })).rejects.toBeInstanceOf(PermanentError);
    const expiring = await fetch(`${a.url}/users/expiring`);
    expect(expiring.status).toBe(401);
  });

  it('answers 400 to a bad body and 404 to an unknown user', async () => {
    const bad = await fetch(`${a.url}/internal/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ rejectedToken: 'abc' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('bad_request');
    const empty = await fetch(`${a.url}/internal/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ userId: '' }),
    });
    expect(empty.status).toBe(400);
    await expect(fetchAccessToken({ authUrl: a.url, secret, userId: '' })).rejects.toMatchObject({ rule: 'token-bad-request' });
    const unknown = fetchAccessToken({ authUrl: a.url, secret, userId: 'nobody' });
    await expect(unknown).rejects.toBeInstanceOf(PermanentError);
    await expect(unknown).rejects.toMatchObject({ rule: 'token-unknown-user' });
  });

  it('maps an unreachable auth to TransientError', async () => {
    await expect(fetchAccessToken({ authUrl: 'http://127.0.0.1:9', secret, userId })).rejects.toBeInstanceOf(TransientError);
  });

  it('with a cold cache and an expired token, 50 requests over two processes cause exactly one refresh', async () => {
    const before = (await token(a.url)).accessToken;
    await redis.del(authKeys(prefix).token(userId)); // cold cache
    await control(sim.url, 'POST', `/users/sim-user-1/expire-access-tokens`);
    expect(await simAccepts(before)).toBe(401);
    await control(sim.url, 'DELETE', '/calls');

    const results = await burst(50);
    const tokens = results.map((r) => (r.status === 'fulfilled' ? r.value.accessToken : `rejected: ${String(r.reason)}`));
    expect(new Set(tokens).size, tokens[0]).toBe(1);
    expect(tokens[0]).not.toBe(before);
    expect(await tokenCalls(sim.url)).toBe(1);
    expect(await simAccepts(tokens[0]!)).toBe(200);
  });

  it('forced refresh: callers naming the same rejected token cause one refresh; a replaced token just gets the new one', async () => {
    const current = (await token(b.url)).accessToken;
    await control(sim.url, 'DELETE', '/calls');
    const results = await burst(30, current);
    const tokens = results.map((r) => (r.status === 'fulfilled' ? r.value.accessToken : `rejected: ${String(r.reason)}`));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(current);
    expect(await tokenCalls(sim.url)).toBe(1);
    // a late caller with the old rejected token: no refresh, the current token
    expect((await token(a.url, current)).accessToken).toBe(tokens[0]);
    expect(await tokenCalls(sim.url)).toBe(1);
    expect(await simAccepts(tokens[0]!)).toBe(200);
  });

  it('rotation: a new refresh token is stored and used next time', async () => {
    await control(sim.url, 'PATCH', '/users/sim-user-1', { rotateRefreshTokens: 'revoke-old' });
    const first = await storedRefreshToken();
    await token(a.url, (await token(a.url)).accessToken);
    const second = await storedRefreshToken();
    expect(second).not.toBe(first);
    // the old one is now revoked at the simulator: this refresh works only with the new one
    const t = await token(b.url, (await token(b.url)).accessToken);
    expect(await simAccepts(t.accessToken)).toBe(200);
    const third = await storedRefreshToken();
    expect(third).not.toBe(second);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/playledger_token_refreshes_total\{[^}]*outcome="rotated"[^}]*\} [1-9]/);
  });

  it('no rotation: the old refresh token is kept', async () => {
    await control(sim.url, 'PATCH', '/users/sim-user-1', { rotateRefreshTokens: 'off' });
    const before = await storedRefreshToken();
    const stored = (await store.getCredentials(userId))!.refreshToken;
    await token(a.url, (await token(a.url)).accessToken);
    expect(await storedRefreshToken()).toBe(before);
    expect((await store.getCredentials(userId))!.refreshToken).toEqual(stored);
  });

  it('Spotify down or asking to wait: every caller is told at once (503 / 429), Spotify is asked once', async () => {
    const current = (await token(a.url)).accessToken;
    const backoffKey = authKeys(prefix).refreshBackoff(userId);

    await control(sim.url, 'POST', '/faults', { kind: 'server-error', endpoint: 'token', durationMs: 60_000 });
    await control(sim.url, 'DELETE', '/calls');
    for (const r of await burst(30, current)) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TransientError);
    }
    expect(await tokenCalls(sim.url)).toBe(1);
    await control(sim.url, 'DELETE', '/faults');
    await redis.del(backoffKey); // as if the few seconds of back-off had passed

    await control(sim.url, 'POST', '/faults', { kind: 'rate-limit', endpoint: 'token', retryAfterSec: 7, durationMs: 60_000 });
    await control(sim.url, 'DELETE', '/calls');
    const started = Date.now();
    const results = await burst(30, current);
    const untils = new Set<number>();
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as RateLimitedError;
      expect(reason).toBeInstanceOf(RateLimitedError);
      untils.add(reason.until.getTime());
    }
    expect(untils.size).toBe(1);
    expect([...untils][0]).toBeGreaterThanOrEqual(started + 6_000);
    expect(await tokenCalls(sim.url)).toBe(1);
    await control(sim.url, 'DELETE', '/faults');
    await redis.del(backoffKey);

    expect((await store.getUser(userId))?.status).toBe('active');
    expect((await token(b.url, current)).accessToken).not.toBe(current);
  });

  it('invalid_grant: needs_reauth with the reason, schedule removed, 409, and no retry storm', async () => {
    expect(await scheduledUsers(queue)).toEqual([userId]);
    const current = (await token(a.url)).accessToken;
    await control(sim.url, 'POST', '/users/sim-user-1/revoke');
    await control(sim.url, 'DELETE', '/calls');
    const results = await burst(30, current);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ReauthRequiredError);
    }
    const user = await store.getUser(userId);
    expect(user?.status).toBe('needs_reauth');
    expect(user?.statusReason).toContain('invalid_grant');
    expect(await scheduledUsers(queue)).toEqual([]);
    expect(await redis.exists(authKeys(prefix).token(userId))).toBe(0);
    // callers keep asking: they are told at once, Spotify is not asked again
    for (let i = 0; i < 10; i += 1) await expect(token(i % 2 ? a.url : b.url)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(await tokenCalls(sim.url)).toBe(1);
  });

  it('re-login makes the user active again and puts the schedule back', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-1' });
    const { response } = await browserLogin(b.url);
    expect(response.status).toBe(200);
    const user = await store.getUser(userId);
    expect(user?.status).toBe('active');
    expect(user?.statusReason).toBeNull();
    expect(await scheduledUsers(queue)).toEqual([userId]);
    await storedRefreshToken();
    const t = await token(a.url, (await token(a.url)).accessToken);
    expect(await simAccepts(t.accessToken)).toBe(200);
  });

  it('refuses a paused user with 409 (log in / resume: never retry)', async () => {
    await store.setUserStatus(userId, 'paused', 'operator');
    await expect(token(a.url)).rejects.toBeInstanceOf(ReauthRequiredError);
    await store.setUserStatus(userId, 'active', null);
  });
});

describe('headless set-up', () => {
  it('registers the user of SPOTIFY_REFRESH_TOKEN at start-up: stored, scheduled, tokens issued', async () => {
    // a refresh token obtained the way an operator would (once, elsewhere), for sim-user-2
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-2' });
    const redirectUri = 'http://127.0.0.1/callback';
    const authorize = await fetch(
      `${sim.url}/authorize?${new URLSearchParams({ client_id: SIM_CLIENT.id, response_type: 'code', redirect_uri: redirectUri, scope: 'user-read-recently-played user-read-private user-read-email', state: 'x' }).toString()}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location') ?? '').searchParams.get('code') ?? '';
    remember('code', code);
    const exchanged = await fetch(`${sim.url}/api/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${SIM_CLIENT.id}:${SIM_CLIENT.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }).toString(),
    });
    const grant = (await exchanged.json()) as { refresh_token: string; access_token: string };
    remember('headless refresh token', grant.refresh_token);
    remember('headless access token', grant.access_token);

    const headless = await startAuth({ ...env, SPOTIFY_REFRESH_TOKEN: grant.refresh_token }, logs, 'auth-headless');
    try {
      const user = (await store.listUsers()).find((u) => u.spotifyId === 'sim-user-2');
      expect(user?.status).toBe('active');
      expect(await storedRefreshToken(user!.userId)).toBe(grant.refresh_token);
      expect(await scheduledUsers(queue)).toContain(user!.userId);
      const t = await token(headless.url, undefined, user!.userId);
      expect(await simAccepts(t.accessToken)).toBe(200);
    } finally {
      await headless.stop();
    }
  });
});

describe('headless set-up with a refused token', () => {
  it('starts anyway, says so, and registers nobody', async () => {
    const bogus = `AQ${randomBytes(40).toString('base64url')}`;
    remember('bogus headless refresh token', bogus);
    const before = (await store.listUsers()).length;
    const headless = await startAuth({ ...env, SPOTIFY_REFRESH_TOKEN: bogus }, logs, 'auth-headless-refused');
    await headless.stop();
    expect(await store.listUsers()).toHaveLength(before);
    expect(logs.text()).toMatch(/auth-headless-refused:stdout: .*Spotify refused SPOTIFY_REFRESH_TOKEN/);
  });
});

describe('key rotation', () => {
  it('a new current key: values sealed under the old key still decrypt, new values use the new key', async () => {
    const newKey = randomBytes(32).toString('base64');
    secrets.set('new encryption key', newKey);
    const rotatedKeys = `t2:${newKey},${env.TOKEN_ENCRYPTION_KEYS}`;
    const rotated = await startAuth({ ...env, TOKEN_ENCRYPTION_KEYS: rotatedKeys }, logs, 'auth-rotated-keys');
    box = createSecretBox(rotatedKeys);
    try {
      expect((await store.getCredentials(userId))!.refreshToken.keyId).toBe('t1');
      const before = (await token(rotated.url)).accessToken; // sealed under t1 in the cache: still opens
      const fresh = await token(rotated.url, before); // the refresh token sealed under t1 opens
      expect(await simAccepts(fresh.accessToken)).toBe(200);
      const cached = JSON.parse((await redis.get(authKeys(prefix).token(userId)))!) as { keyId: string };
      expect(cached.keyId).toBe('t2');

      await control(sim.url, 'PATCH', '/users/sim-user-1', { rotateRefreshTokens: 'keep-old' });
      await token(rotated.url, fresh.accessToken);
      expect((await store.getCredentials(userId))!.refreshToken.keyId).toBe('t2');
      await storedRefreshToken();

      // a process that does not hold the new key fails clearly (503, a log line naming the key), never silently
      const stale = await token(a.url, (await token(rotated.url)).accessToken).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(TransientError);
      expect(logs.text()).toMatch(/auth-a:stdout: .*key \\"t2\\", which TOKEN_ENCRYPTION_KEYS does not hold/);
    } finally {
      await control(sim.url, 'PATCH', '/users/sim-user-1', { rotateRefreshTokens: 'off' });
      await rotated.stop();
    }
  });
});

describe('at rest and in the logs', () => {
  it('no refresh or access token in any table or any Redis key under the prefix (plain, base64 or hex)', async () => {
    for (const [label, value] of await tokensHeldByAuth(store, prefix, box)) remember(label, value);
    const tokens = new Map([...secrets].filter(([label]) => label.includes('token') && !label.includes('SECRET')));
    expect(tokens.size).toBeGreaterThan(8);
    const [tables, keys] = await Promise.all([dumpDatabase(db.url), dumpRedis(prefix)]);
    expect(keys.keys.some((k) => k.includes(':auth:token:'))).toBe(true);
    expect(keys.keys.some((k) => k.includes(':extractions:'))).toBe(true);
    expect(findSecrets(`${tables}\n${keys.text}`, tokens)).toEqual([]);
  });

  it('no token, code or secret in any line any process wrote at debug level; a planted token is found', async () => {
    await Promise.all([a.stop(), b.stop()]);
    const text = logs.text();
    expect(text).toContain('"level":20');
    expect(text).toContain('user must log in again');
    expect(findSecrets(text, secrets)).toEqual([]);
    const planted = [...secrets].find(([l]) => l.startsWith('refresh token'))!;
    expect(findSecrets(`${text}\nauth-b:stdout: {"msg":"leak","v":"${planted[1]}"}`, secrets)).toEqual([planted[0]]);
  });
});
