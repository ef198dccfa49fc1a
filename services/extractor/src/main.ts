// The extractor process: reads config, creates its connections, starts the worker and the schedule
// reconciliation, serves /healthz /readyz /metrics on PORT, and stops cleanly on SIGTERM.
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import {
  QueueNames,
  createLogger,
  createMetrics,
  createRedis,
  defaultJobOptions,
  fetchAccessToken,
  installShutdown,
  registerOpsRoutes,
  registerSecret,
  type ExtractionRequest,
  type RawPageJob,
} from '@playledger/common';
import { createStore } from '@playledger/store';
import { loadExtractorConfig } from './config.ts';
import { startReconciler } from './reconcile.ts';
import { createRecentlyPlayedReader } from './spotify.ts';
import { createExtractorWorker } from './worker.ts';

async function main(): Promise<void> {
  const config = loadExtractorConfig();
  const logger = createLogger({ name: 'extractor', level: config.LOG_LEVEL });
  registerSecret(config.AUTH_SERVICE_SECRET);
  const metrics = createMetrics('extractor');

  const store = await createStore({ kind: config.STORE_KIND, url: config.DATABASE_URL, logger });
  await store.migrate();

  const producer = createRedis(config.REDIS_URL, 'producer', 'extractor-producer');
  const workerConnection = createRedis(config.REDIS_URL, 'worker', 'extractor-worker');
  const queueOptions = { connection: producer, prefix: config.QUEUE_PREFIX, defaultJobOptions };
  const extractions = new Queue<ExtractionRequest>(QueueNames.extractions, queueOptions);
  const validation = new Queue<RawPageJob>(QueueNames.validation, queueOptions);

  const reader = createRecentlyPlayedReader(config, logger, metrics);
  const worker = createExtractorWorker(
    {
      store,
      getAccessToken: async (userId, rejectedToken) => {
        const token = await fetchAccessToken({
          authUrl: config.AUTH_URL,
          secret: config.AUTH_SERVICE_SECRET,
          userId,
          rejectedToken,
        });
        return token.accessToken;
      },
      getRecentlyPlayed: (token, limit) => reader.getRecentlyPlayed(token, limit),
      isTokenRejected: (error) => reader.isTokenRejected(error),
      quotaPauseMs: config.SPOTIFY_QUOTA_PAUSE_MS,
      now: () => new Date(),
      logger,
      metrics,
    },
    {
      connection: workerConnection,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.EXTRACTOR_CONCURRENCY,
      validationQueue: validation,
      metrics,
    },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));

  const reconciler = startReconciler(
    {
      store,
      queue: extractions,
      intervalMs: config.EXTRACTION_INTERVAL_MS,
      staleAfterMs: config.STALE_EXTRACTION_MS,
      now: () => new Date(),
      logger,
    },
    config.RECONCILE_INTERVAL_MS,
  );

  // Only the ops routes are served here; their failures are answered, not logged.
  const app = Fastify();
  registerOpsRoutes(app, {
    registry: metrics.registry,
    checks: {
      redis: () => producer.ping(),
      store: () => store.ping(),
      auth: async () => {
        const response = await fetch(new URL('/healthz', config.AUTH_URL), { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) throw new Error(`auth answered ${response.status}`);
      },
    },
    beforeScrape: async () => {
      const counts = await extractions.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ queue: QueueNames.extractions, state }, n);
    },
  });

  installShutdown(
    logger,
    [
      { name: 'reconciler', close: () => reconciler.stop() },
      { name: 'worker', close: () => worker.close() },
      { name: 'http', close: () => app.close() },
      { name: 'queues', close: () => Promise.all([extractions.close(), validation.close()]) },
      { name: 'redis', close: () => Promise.all([producer.quit(), workerConnection.quit()]) },
      { name: 'store', close: () => store.close() },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
  );

  await worker.waitUntilReady();
  await reconciler.runNow();
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const port = app.server.address();
  logger.info({ port: typeof port === 'object' && port ? port.port : config.PORT, address }, 'ready');
}

main().catch((error: unknown) => {
  // The logger may not exist yet (bad config): print the reason plainly and exit non-zero.
  process.stderr.write(`extractor failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
