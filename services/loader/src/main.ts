// The loader process: reads config, migrates the store (under the store's lock, so replicas wait for each other),
// runs the load and dead-letter workers and serves /healthz, /readyz (Redis + store) and /metrics.
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import {
  announceReady,
  createLogger,
  createMetrics,
  createRedis,
  installShutdown,
  loadConfig,
  type Logger,
  QueueNames,
  registerOpsRoutes,
  registerSecret,
  runService,
} from '@playledger/common';
import { createStore, type Store } from '@playledger/store';
import { LoaderConfig } from './config.ts';
import { createLoaderWorkers } from './workers.ts';

/** The database may still be starting (compose, a restart): try for about a minute before giving up. */
async function migrateWithRetry(store: Store, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { applied } = await store.migrate();
      logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
      return;
    } catch (error) {
      if (attempt >= 12) throw error;
      logger.warn({ err: error, attempt }, 'migration failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 5_000)));
    }
  }
}

function databasePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const config = loadConfig(LoaderConfig);
  registerSecret(databasePassword(config.DATABASE_URL));
  const logger = createLogger({ name: 'loader', level: config.LOG_LEVEL });
  const metrics = createMetrics('loader');

  const store = await createStore({
    kind: config.STORE_KIND,
    url: config.DATABASE_URL,
    logger,
    catalogCacheEntries: config.LOADER_CATALOG_CACHE_ENTRIES,
  });
  await migrateWithRetry(store, logger);

  const connection = createRedis(config.REDIS_URL, 'worker', 'loader-worker');
  // a fail-fast connection for readiness and queue counts, so that /readyz answers even while Redis is away
  const probe = createRedis(config.REDIS_URL, 'producer', 'loader-probe');
  const observed = [QueueNames.load, QueueNames.deadLetters].map(
    (name) => new Queue(name, { connection: probe, prefix: config.QUEUE_PREFIX }),
  );

  const workers = createLoaderWorkers({
    connection,
    prefix: config.QUEUE_PREFIX,
    store,
    logger,
    metrics,
    concurrency: config.LOADER_CONCURRENCY,
  });

  const app = Fastify({ logger: false });
  registerOpsRoutes(app, {
    registry: metrics.registry,
    checks: { redis: () => probe.ping(), store: () => store.ping() },
    beforeScrape: async () => {
      for (const queue of observed) {
        const counts = await queue.getJobCounts();
        for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ queue: queue.name, state }, n);
      }
    },
  });

  installShutdown(
    logger,
    [
      { name: 'workers', close: () => workers.close() },
      { name: 'http', close: () => app.close() },
      { name: 'queues', close: async () => Promise.all(observed.map((q) => q.close())) },
      { name: 'redis', close: async () => Promise.all([connection.quit(), probe.quit()]) },
      { name: 'store', close: () => store.close() },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
  );

  await app.listen({ port: config.PORT, host: config.HOST });
  await workers.waitUntilReady();
  announceReady(logger, app);
}

runService('loader', main);
