// Shared set-up of the loader's integration tests: a fresh PostgreSQL database, a Redis prefix, and the validator and
// loader workers started in this process through their factories.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QueueNames,
  createLogger,
  createRedis,
  defaultJobOptions,
  type LoadJob,
  type Logger,
  type Metrics,
  type RawPageJob,
} from '@playledger/common';
import { createStore, type Store } from '@playledger/store';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { createValidatorWorker, type ValidatorWorker } from '../../validator/src/index.ts';
import { createLoaderWorkers, type LoaderWorkers } from '../src/index.ts';

export const logger: Logger = createLogger({ name: 'loader-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function openStore(label: string): Promise<{ db: TestDatabase; store: Store }> {
  const db = await createTestDatabase(label);
  const store = await createStore({ kind: 'postgres', url: db.url, logger });
  await store.migrate();
  return { db, store };
}

export interface Pipeline {
  prefix: string;
  connection: Redis;
  validator: ValidatorWorker;
  loader: LoaderWorkers;
  validation: Queue<RawPageJob>;
  load: Queue<LoadJob>;
  close(): Promise<void>;
}

/** Validator and loader workers in this process on a fresh prefix; `store` may be a wrapper that injects failures. */
export async function startPipeline(
  store: Store,
  label: string,
  options: { metrics?: Metrics; logger?: Logger } = {},
): Promise<Pipeline> {
  const prefix = uniquePrefix(label);
  const connection = createRedis(TEST_REDIS_URL, 'worker', `test-${label}`);
  const log = options.logger ?? logger;
  const validator = createValidatorWorker({ connection, prefix, logger: log, metrics: options.metrics });
  const loader = createLoaderWorkers({ connection, prefix, store, logger: log, metrics: options.metrics });
  const validation = new Queue<RawPageJob>(QueueNames.validation, { connection, prefix, defaultJobOptions });
  const load = new Queue<LoadJob>(QueueNames.load, { connection, prefix, defaultJobOptions });
  await Promise.all([validator.worker.waitUntilReady(), loader.waitUntilReady()]);
  return {
    prefix,
    connection,
    validator,
    loader,
    validation,
    load,
    async close() {
      await validator.close();
      await loader.close();
      await validation.close();
      await load.close();
      await connection.quit();
      await dropPrefix(prefix);
    },
  };
}

/** Polls `check` until it returns a value that is not undefined (a condition, not a timing assertion). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the job has finished and returns its final state and attempts. */
export async function waitForJob(
  queue: Queue,
  jobId: string,
): Promise<{ state: string; attemptsMade: number; returnvalue: unknown }> {
  return waitFor(`job ${jobId}`, async () => {
    const state = await queue.getJobState(jobId);
    if (state !== 'completed' && state !== 'failed') return undefined;
    const job = await queue.getJob(jobId); // read after the state, so that attempts and result are final
    return job ? { state, attemptsMade: job.attemptsMade, returnvalue: job.returnvalue as unknown } : undefined;
  });
}

/** What the extractor does before it publishes a page: the record, marked fetched. */
export async function startExtraction(
  store: Store,
  id: string,
  userId: string,
  items: unknown[],
  fetchedAt: Date,
  limit = 50,
): Promise<RawPageJob> {
  await store.startExtraction({ id, userId, trigger: 'manual', requestedAt: fetchedAt });
  await store.markExtractionFetched(id, {
    fetchedAt,
    fetched: items.length,
    full: items.length >= limit,
    oldestPlayedAt: null,
    newestPlayedAt: null,
  });
  return { extractionId: id, userId, fetchedAt: fetchedAt.toISOString(), items, limit };
}

/** A logger whose JSON lines the test can read. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { logger: createLogger({ name: 'loader-test', level: 'info', destination }), lines };
}
