// Expiry with an injected clock, and the ops routes, on the app built in-process (real Redis, real PostgreSQL).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { QueueNames, createLogger, createMetrics, createRedis, createSecretBox } from '@playledger/common';
import { createStore, type Store } from '@playledger/store';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { buildApp } from '../src/app.ts';
import type { SpotifyAccounts } from '../src/spotify-port.ts';
import { LogCapture, dumpRedis, findSecrets, testKeys } from './harness.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-01T12:00:00.000Z');
const logs = new LogCapture();
const secret = randomBytes(32).toString('hex');
const box = createSecretBox(testKeys());
let db: TestDatabase;
let prefix: string;
let store: Store;
let redis: Redis;
let queue: Queue;
let app: FastifyInstance;

const unreachable = (): never => {
  throw new Error('Spotify is not part of this test');
};
const spotify: SpotifyAccounts = { exchangeCode: unreachable, refresh: unreachable, getMe: unreachable };

beforeAll(async () => {
  db = await createTestDatabase('auth_expiry');
  prefix = uniquePrefix('auth-expiry');
  const logger = createLogger({ name: 'auth', level: 'debug', destination: { write: (l: string) => logs.add('auth', l) } });
  store = await createStore({ kind: 'postgres', url: db.url, logger });
  await store.migrate();
  redis = createRedis(TEST_REDIS_URL, 'producer');
  queue = new Queue(QueueNames.extractions, { connection: redis, prefix });
  app = buildApp({
    logger,
    redis,
    store,
    spotify,
    box,
    extractions: queue,
    metrics: createMetrics('auth'),
    clock: { now: () => NOW },
    queuePrefix: prefix,
    loginStateTtlMs: 600_000,
    loginMaxPerWindow: 2,
    extractionIntervalMs: 600_000,
    spotifyTimeoutMs: 5_000,
    accountsUrl: 'http://127.0.0.1:9',
    clientId: 'client',
    serviceSecret: secret,
    urls: () => ({ redirectUri: 'https://auth.example.org/callback', publicBase: 'https://auth.example.org' }),
  });
  await app.ready();
  for (const [id, daysAgo] of [['u170', 170], ['u150', 150], ['u190', 190]] as const) {
    await store.saveLogin({
      userId: id,
      spotifyId: id,
      accountId: null,
      displayName: `User ${daysAgo}`,
      refreshToken: box.seal(`refresh-${id}-${randomBytes(8).toString('hex')}`, `refresh:${id}`),
      scope: 'user-read-recently-played',
      authorizedAt: new Date(NOW.getTime() - daysAgo * DAY),
    });
  }
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  redis?.disconnect();
  await store?.close();
  await db?.drop();
  if (prefix) await dropPrefix(prefix);
});

describe('GET /users/expiring', () => {
  it('lists a user authorized 170 days ago (and one already past), not one authorized 150 days ago', async () => {
    const response = await app.inject({ method: 'GET', url: '/users/expiring', headers: { authorization: `Bearer ${secret}` } });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ withinDays: number; users: { userId: string; refreshTokenEndsAt: string; reloginUrl: string }[] }>();
    expect(body.withinDays).toBe(14);
    expect(body.users.map((u) => u.userId)).toEqual(['u190', 'u170']);
    const u170 = body.users.find((u) => u.userId === 'u170')!;
    expect(u170.reloginUrl).toBe('https://auth.example.org/login');
    const ends = new Date(u170.refreshTokenEndsAt).getTime();
    expect(ends).toBeGreaterThan(NOW.getTime());
    expect(ends).toBeLessThanOrEqual(NOW.getTime() + 14 * DAY);
  });

  it('takes the window from the query, and needs the service secret', async () => {
    const wide = await app.inject({ method: 'GET', url: '/users/expiring?withinDays=40', headers: { authorization: `Bearer ${secret}` } });
    expect(wide.json<{ users: unknown[] }>().users).toHaveLength(3);
    expect((await app.inject({ method: 'GET', url: '/users/expiring' })).statusCode).toBe(401);
    const bad = await app.inject({ method: 'GET', url: '/users/expiring?withinDays=-1', headers: { authorization: `Bearer ${secret}` } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('login capacity', () => {
  it('starts at most LOGIN_MAX_PER_WINDOW logins per window, then says to come back later', async () => {
    for (let i = 0; i < 2; i += 1) expect((await app.inject({ method: 'GET', url: '/login' })).statusCode).toBe(302);
    const busy = await app.inject({ method: 'GET', url: '/login' });
    expect(busy.statusCode).toBe(503);
    expect(busy.body).toContain('try again in a few minutes');
    const { keys } = await dumpRedis(prefix);
    expect(keys.filter((k) => k.includes(':auth:state:'))).toHaveLength(2);
  });
});

describe('ops routes', () => {
  it('answers /healthz, /readyz (Redis and the store) and /metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', store: 'ok' } });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('playledger_users_refresh_token_expiring{service="auth"} 2');
    expect(metrics.body).toContain('playledger_users_needs_reauth{service="auth"} 0');
  });

  it('logs no secret', () => {
    expect(findSecrets(logs.text(), new Map([['service secret', secret]]))).toEqual([]);
  });
});
