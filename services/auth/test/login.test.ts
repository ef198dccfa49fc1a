// The login over real HTTP: auth as a child process, the simulator as Spotify, real Redis and PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueNames, createLogger, createSecretBox, scheduledUsers, type SealedValue, type SecretBox } from '@playledger/common';
import { createStore, type Store } from '@playledger/store';
import { startSimulator, type Simulator } from '@playledger/spotify-sim';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { authKeys } from '../src/keys.ts';
import { loginCookieName } from '../src/login-states.ts';
import {
  Browser,
  LogCapture,
  browserLogin,
  authEnv,
  control,
  dumpDatabase,
  dumpRedis,
  findSecrets,
  loginUntilCallback,
  runAuthExpectingExit,
  startAuth,
  testKeys,
  tokensHeldByAuth,
  type AuthProcess,
} from './harness.ts';

const logs = new LogCapture();
/** every secret this file saw, by label: none may appear in any log line */
const secrets = new Map<string, string>();
let sim: Simulator;
let db: TestDatabase;
let prefix: string;
let env: Record<string, string>;
let auth: AuthProcess;
let shortState: AuthProcess;
let store: Store;
let queue: Queue;
let redis: Redis;
let box: SecretBox;

beforeAll(async () => {
  sim = await startSimulator({ users: 3, port: 0 });
  db = await createTestDatabase('auth_login');
  prefix = uniquePrefix('auth-login');
  const secret = randomBytes(32).toString('hex');
  const keys = testKeys();
  box = createSecretBox(keys);
  env = authEnv({ simUrl: sim.url, databaseUrl: db.url, prefix, keys, secret });
  secrets.set('AUTH_SERVICE_SECRET', secret);
  secrets.set('encryption key', keys.split(':')[1] ?? '');
  secrets.set('client secret', env.SPOTIFY_CLIENT_SECRET ?? '');
  auth = await startAuth(env, logs, 'auth-a');
  shortState = await startAuth({ ...env, LOGIN_STATE_TTL_MS: '1000' }, logs, 'auth-short-state');
  store = await createStore({ kind: 'postgres', url: db.url, logger: createLogger({ name: 'test', level: 'debug', destination: { write: (l: string) => logs.add('test', l) } }) });
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue(QueueNames.extractions, { connection: redis, prefix });
});

afterAll(async () => {
  await Promise.all([auth?.stop(), shortState?.stop()]);
  await queue?.close();
  redis?.disconnect();
  await store?.close();
  await sim?.close();
  await db?.drop();
  if (prefix) await dropPrefix(prefix);
});

async function html(response: Response): Promise<string> {
  return response.text();
}

describe('login', () => {
  it('sends the browser to Spotify with scopes, state and an S256 challenge, and keeps no verifier in the URL', async () => {
    const response = await fetch(`${auth.url}/login`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const cookie = response.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(/^pl_login_\w+=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    secrets.set('browser binding', cookie.split(';')[0]!.split('=')[1]!);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${sim.url}/authorize`);
    const q = location.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('playledger-sim-client');
    expect(q.get('redirect_uri')).toBe(`http://127.0.0.1:${auth.port}/callback`);
    expect(q.get('scope')?.split(' ').sort()).toEqual(['user-read-email', 'user-read-private', 'user-read-recently-played']);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(q.has('code_verifier')).toBe(false);
    // the verifier waits in Redis, encrypted, under the hash of the state, for a few minutes
    const state = q.get('state')!;
    const key = authKeys(prefix).loginState(state);
    expect(key).not.toContain(state);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600_000);
    const verifier = box.open((JSON.parse((await redis.get(key))!) as { verifier: SealedValue }).verifier, `pkce:${state}`);
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(q.get('code_challenge'));
    secrets.set('PKCE verifier', verifier);
  });

  it('completes a whole login with redirects followed: user stored active, schedule registered, token encrypted', async () => {
    const { response, url, browser } = await browserLogin(auth.url); // /login -> /authorize -> /callback
    browser.codes.forEach((c, i) => secrets.set(`code (whole login ${i})`, c));
    const page = await html(response);
    expect(response.status, page).toBe(200);
    expect(url.pathname).toBe('/callback');
    expect(page).toContain('You are logged in');
    expect(response.headers.get('cache-control')).toBe('no-store');

    const users = await store.listUsers();
    expect(users).toHaveLength(1);
    const user = users[0]!;
    expect(user.status).toBe('active');
    expect(user.spotifyId).toBe('sim-user-1');
    const credentials = await store.getCredentials(user.userId);
    expect(credentials?.refreshToken.keyId).toBe('t1');
    expect(await scheduledUsers(queue)).toEqual([user.userId]);
  });

  it('logging in twice changes nothing but the token: one user, one schedule', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-1' });
    const { response } = await browserLogin(auth.url);
    expect(response.status).toBe(200);
    expect(await store.listUsers()).toHaveLength(1);
    expect(await scheduledUsers(queue)).toHaveLength(1);
  });

  it('refuses a callback without state', async () => {
    const response = await fetch(`${auth.url}/callback?code=abcdefghijklmnop`);
    expect(response.status).toBe(400);
    expect(await html(response)).toContain('start the login again');
  });

  it('refuses a forged state, and the code is never exchanged', async () => {
    await control(sim.url, 'DELETE', '/calls');
    const response = await fetch(`${auth.url}/callback?code=abcdefghijklmnop&state=${randomBytes(32).toString('base64url')}`);
    expect(response.status).toBe(400);
    expect(await html(response)).toContain('expired or was already used');
    const calls = (await control(sim.url, 'GET', '/calls')) as { total: { token?: number } };
    expect(calls.total.token ?? 0).toBe(0);
  });

  it('refuses a replayed state (the second visit of one callback)', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-2' });
    const { callbackUrl, browser } = await loginUntilCallback(auth.url);
    secrets.set('code (replayed login)', callbackUrl.searchParams.get('code') ?? '');
    const cookie = { cookie: `${loginCookieName(callbackUrl.searchParams.get('state')!)}=${bindingOf(browser)}` };
    const first = await browser.get(callbackUrl);
    expect(first.status).toBe(200);
    const second = await fetch(callbackUrl, { headers: cookie }); // even with the cookie the browser had
    expect(second.status).toBe(400);
    expect(await html(second)).toContain('expired or was already used');
  });

  it('refuses a callback from a browser that did not start the login, and the state is used up', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-3' });
    const { callbackUrl, browser } = await loginUntilCallback(auth.url);
    secrets.set('code (other browser)', callbackUrl.searchParams.get('code') ?? '');
    const elsewhere = await fetch(callbackUrl); // no cookie: another browser
    expect(elsewhere.status).toBe(400);
    expect(await html(elsewhere)).toContain('started somewhere else');
    const forged = await fetch(callbackUrl, {
      headers: { cookie: `${loginCookieName(callbackUrl.searchParams.get('state')!)}=${randomBytes(32).toString('base64url')}` },
    });
    expect(forged.status).toBe(400);
    const second = await browser.get(callbackUrl); // the real browser, too late
    expect(second.status).toBe(400);
    expect((await store.listUsers()).map((u) => u.spotifyId)).not.toContain('sim-user-3');
  });

  it('keeps the replayed state refused', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-1' });
    const { callbackUrl, browser } = await loginUntilCallback(auth.url);
    secrets.set('code (replay 2)', callbackUrl.searchParams.get('code') ?? '');
    expect((await browser.get(callbackUrl)).status).toBe(200);
    const second = await browser.get(callbackUrl);
    expect(second.status).toBe(400);
    expect(await html(second)).toContain('expired or was already used');
  });

  it('refuses an expired state', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-3' });
    const { callbackUrl } = await loginUntilCallback(shortState.url); // LOGIN_STATE_TTL_MS=1000
    secrets.set('code (expired state)', callbackUrl.searchParams.get('code') ?? '');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // the cookie has expired in a real browser too; sent anyway, the state is still refused
    const response = await fetch(callbackUrl, { headers: { cookie: 'pl_login_x=y' } });
    expect(response.status).toBe(400);
    expect(await html(response)).toContain('expired or was already used');
    expect((await store.listUsers()).map((u) => u.spotifyId)).not.toContain('sim-user-3');
  });

  it('refuses a bad code with a page that says to start again', async () => {
    const browser = new Browser();
    const login = await browser.get(`${auth.url}/login`);
    const state = new URL(login.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const code = `not-a-code-${randomBytes(8).toString('hex')}`;
    secrets.set('code (bad)', code);
    const response = await browser.get(`${auth.url}/callback?code=${code}&state=${state}`);
    expect(response.status).toBe(400);
    expect(await html(response)).toContain('Spotify did not accept this login');
  });

  it('explains a denied consent (error=access_denied)', async () => {
    await control(sim.url, 'POST', '/authorize/next', { deny: true });
    const { response, url } = await browserLogin(auth.url);
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(response.status).toBe(403);
    expect(await html(response)).toContain('You did not allow access');
  });

  it('explains a refused profile (403: not on the development-mode allow-list) and stores nobody', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-3' });
    await control(sim.url, 'POST', '/faults', { kind: 'forbidden', endpoint: 'me', count: 1 });
    const { response, browser } = await browserLogin(auth.url);
    browser.codes.forEach((c) => secrets.set(`code (403) ${c.slice(0, 4)}`, c));
    expect(response.status).toBe(403);
    expect(await html(response)).toContain('User Management');
    expect((await store.listUsers()).map((u) => u.spotifyId)).not.toContain('sim-user-3');
  });

  it('says to try again later when Spotify is down during the code exchange', async () => {
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-3' });
    await control(sim.url, 'POST', '/faults', { kind: 'server-error', endpoint: 'token', count: 1 });
    const { response, browser } = await browserLogin(auth.url);
    browser.codes.forEach((c) => secrets.set(`code (503) ${c.slice(0, 4)}`, c));
    expect(response.status).toBe(503);
    expect(await html(response)).toContain('try again in a minute');
    expect((await store.listUsers()).map((u) => u.spotifyId)).not.toContain('sim-user-3');
  });

  it('keeps an operator pause when the user logs in again, with no schedule', async () => {
    const user = (await store.listUsers()).find((u) => u.spotifyId === 'sim-user-2')!;
    await store.setUserStatus(user.userId, 'paused', 'operator');
    await queue.removeJobScheduler(`user:${user.userId}`);
    await control(sim.url, 'POST', '/authorize/next', { userId: 'sim-user-2' });
    const { response } = await browserLogin(auth.url);
    expect(response.status).toBe(200);
    expect(await html(response)).toContain('paused');
    expect((await store.getUser(user.userId))?.status).toBe('paused');
    expect(await scheduledUsers(queue)).not.toContain(user.userId);
  });

  it('holds no refresh or access token at rest (every table, every Redis key under the prefix)', async () => {
    // the tokens auth holds (decrypted with the test's key ring) are the ones to look for
    const issued = await tokensHeldByAuth(store, prefix, box);
    expect(issued.size).toBeGreaterThanOrEqual(4); // two users: a refresh and an access token each
    const [tables, keys] = await Promise.all([dumpDatabase(db.url), dumpRedis(prefix)]);
    expect(keys.keys.some((k) => k.includes(':auth:token:'))).toBe(true);
    expect(findSecrets(`${tables}\n${keys.text}`, issued)).toEqual([]);
    for (const [label, value] of issued) secrets.set(label, value);
  });
});

describe('configuration', () => {
  it('stops with one message naming every missing variable', async () => {
    const result = await runAuthExpectingExit({ PORT: '0', LOG_LEVEL: 'debug' }, logs);
    expect(result.code).toBe(78);
    for (const name of ['SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'AUTH_SERVICE_SECRET', 'TOKEN_ENCRYPTION_KEYS', 'DATABASE_URL']) {
      expect(result.stderr).toContain(`${name} is missing`);
    }
    expect(result.stderr.match(/Invalid configuration/g)).toHaveLength(1);
  });

  it('stops with one message naming every malformed variable, never echoing a value', async () => {
    const short = 'too-short-secret';
    const result = await runAuthExpectingExit(
      { ...env, AUTH_SERVICE_SECRET: short, TOKEN_ENCRYPTION_KEYS: 'k1:c2hvcnQ=', PORT: 'eighty', SPOTIFY_ACCOUNTS_URL: 'ftp://x', LOG_LEVEL: 'loud' },
      logs,
    );
    expect(result.code).toBe(78);
    for (const name of ['AUTH_SERVICE_SECRET', 'TOKEN_ENCRYPTION_KEYS', 'PORT', 'SPOTIFY_ACCOUNTS_URL', 'LOG_LEVEL']) {
      expect(result.stderr).toContain(`${name} is invalid`);
    }
    expect(result.stderr).not.toContain(short);
    expect(result.stderr).not.toContain('c2hvcnQ=');
  });

  it('refuses a key ring with a key id twice', async () => {
    const k = randomBytes(32).toString('base64');
    const result = await runAuthExpectingExit({ ...env, TOKEN_ENCRYPTION_KEYS: `a:${k},a:${k}` }, logs);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TOKEN_ENCRYPTION_KEYS is invalid');
    expect(result.stderr).not.toContain(k);
  });
});

describe('logs', () => {
  it('hold no token, code or secret from any process, at debug level, error paths included', async () => {
    await Promise.all([auth.stop(), shortState.stop()]); // flush everything they will write
    const text = logs.text();
    expect(text).toContain('"level":20'); // debug lines were written
    expect(text).toContain('login not completed');
    expect(secrets.size).toBeGreaterThan(5);
    expect(findSecrets(text, secrets)).toEqual([]);
    // the scan is able to fail: a token planted in the captured output is found
    const [label, planted] = [...secrets].find(([l]) => l.startsWith('refresh'))!;
    const withPlant = `${text}\nauth-a:stdout: {"level":30,"msg":"oops","value":"${Buffer.from(planted).toString('base64')}"}`;
    expect(findSecrets(withPlant, secrets)).toEqual([label]);
  });
});


/** The browser binding cookie's value the browser holds (one pending login). */
function bindingOf(browser: Browser): string {
  return browser.cookieValues()[0] ?? '';
}
