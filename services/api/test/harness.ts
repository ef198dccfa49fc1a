// An api built with buildApp against a fresh PostgreSQL database and a unique queue prefix on the real Redis,
// with helpers that seed users, plays (through store.loadBatch) and dead letters.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import {
  ALL_QUEUES,
  createLogger,
  createMetrics,
  createRedis,
  defaultJobOptions,
  type DeadLetterJob,
  type LoadJob,
  type NormalizedPlay,
  type QueueName,
} from '@playledger/common';
import { createStore, type Store, type User } from '@playledger/store';
import type { Redis } from 'ioredis';
import { buildApp } from '../src/app.ts';
import { waitForRedis } from '../src/lib/redis-ready.ts';
import type { ApiSettings } from '../src/lib/deps.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';

export interface Harness {
  app: FastifyInstance;
  store: Store;
  redis: Redis;
  queues: Record<QueueName, Queue>;
  prefix: string;
  db: TestDatabase;
  token: string;
  config: ApiSettings;
  routes: RouteOptions[];
  /** app.inject with the bearer token */
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startHarness(label: string, overrides: Partial<ApiSettings> = {}): Promise<Harness> {
  const db = await createTestDatabase(`api_${label}`);
  const prefix = uniquePrefix(`api-${label}`);
  const logger = createLogger({ name: 'api-test', level: process.env.API_TEST_LOG_LEVEL ?? 'silent' });
  const store = await createStore({ kind: 'postgres', url: db.url, logger });
  await store.migrate();
  const redis = createRedis(TEST_REDIS_URL, 'producer', 'api-test');
  const queueConnection = createRedis(TEST_REDIS_URL, 'producer', 'api-test-queues');
  const queues = Object.fromEntries(
    ALL_QUEUES.map((name) => [name, new Queue(name, { connection: queueConnection, prefix, defaultJobOptions })]),
  ) as Record<QueueName, Queue>;
  await Promise.all([waitForRedis(redis), waitForRedis(queueConnection)]);
  const token = randomBytes(24).toString('hex');
  const config: ApiSettings = {
    API_TOKEN: token,
    QUEUE_PREFIX: prefix,
    AUTH_PUBLIC_URL: 'http://auth.test:8081',
    EXTRACTION_INTERVAL_MS: 600_000,
    SESSION_TTL_MS: 3_600_000,
    BODY_LIMIT_BYTES: 65_536,
    ...overrides,
  };
  const routes: RouteOptions[] = [];
  const app = await buildApp(
    { config, store, redis, queues, metrics: createMetrics('api'), logger },
    { onRoute: (r) => void routes.push(r) },
  );
  await app.ready();
  return {
    app,
    store,
    redis,
    queues,
    prefix,
    db,
    token,
    config,
    routes,
    call: (options) =>
      app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }),
    async close() {
      await app.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await store.close();
      redis.disconnect();
      queueConnection.disconnect();
      await db.drop();
      await dropPrefix(prefix);
    },
  };
}

export async function seedUser(
  store: Store,
  userId: string,
  options: { authorizedAt?: Date; status?: 'paused' | 'needs_reauth'; reason?: string } = {},
): Promise<User> {
  const user = await store.saveLogin({
    userId,
    spotifyId: userId,
    accountId: null,
    displayName: `User ${userId}`,
    refreshToken: { keyId: 'k1', ciphertext: randomBytes(48).toString('base64') },
    scope: 'user-read-recently-played',
    authorizedAt: options.authorizedAt ?? new Date(),
  });
  if (options.status) return (await store.setUserStatus(userId, options.status, options.reason ?? null)) ?? user;
  return user;
}

export function play(playedAt: Date, n: number): NormalizedPlay {
  return {
    playedAt: playedAt.toISOString(),
    track: {
      uri: `spotify:track:t${String(n % 997).padStart(6, '0')}`,
      id: `t${String(n % 997).padStart(6, '0')}`,
      name: `Track "${n % 997}", live`,
      durationMs: 180_000,
      explicit: false,
      isrc: null,
      isLocal: false,
      discNumber: 1,
      trackNumber: 1 + (n % 12),
      album: { uri: 'spotify:album:a1', id: 'a1', name: 'Album', albumType: 'album', releaseDate: '2020', artists: [] },
      artists: [
        { uri: 'spotify:artist:r1', id: 'r1', name: 'Artist One' },
        { uri: 'spotify:artist:r2', id: 'r2', name: 'Artist Two' },
      ],
    },
    context: null,
  };
}

/**
 * Loads `count` plays, 3 minutes apart and ending at `end`, through store.loadBatch in batches (one extraction
 * record per batch, as the loader would). Returns the extraction ids.
 */
export async function seedPlays(store: Store, userId: string, count: number, end = new Date(), batch = 2_000): Promise<string[]> {
  const start = end.getTime() - count * 180_000;
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += batch) {
    const plays: NormalizedPlay[] = [];
    for (let i = offset; i < Math.min(count, offset + batch); i++) plays.push(play(new Date(start + i * 180_000), i));
    const id = `seed-${userId}-${offset}-${randomBytes(3).toString('hex')}`;
    const fetchedAt = new Date(start + (offset + plays.length) * 180_000);
    await store.startExtraction({ id, userId, trigger: 'manual', requestedAt: fetchedAt });
    const job: LoadJob = {
      extractionId: id,
      userId,
      fetchedAt: fetchedAt.toISOString(),
      plays,
      page: {
        fetched: plays.length,
        full: false,
        oldestPlayedAt: plays[0]?.playedAt ?? null,
        newestPlayedAt: plays.at(-1)?.playedAt ?? null,
        deadLettered: 0,
        duplicatesCollapsed: 0,
      },
    };
    await store.markExtractionFetched(id, {
      fetchedAt,
      fetched: plays.length,
      full: false,
      oldestPlayedAt: new Date(job.page.oldestPlayedAt as string),
      newestPlayedAt: new Date(job.page.newestPlayedAt as string),
    });
    await store.loadBatch(job);
    ids.push(id);
  }
  return ids;
}

export function deadLetterJob(userId: string, extractionId: string, overrides: Partial<DeadLetterJob> = {}): DeadLetterJob {
  return {
    extractionId,
    userId,
    stage: 'validator',
    rule: 'played-at-format',
    field: '/played_at',
    message: 'played_at is not an ISO instant',
    record: { played_at: 'yesterday', track: { uri: 'spotify:track:x' } },
    rejectedAt: new Date().toISOString(),
    ...overrides,
  };
}

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return res.json<T>();
}
