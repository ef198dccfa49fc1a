// The validator process: reads config, connects to Redis, runs the worker and serves /healthz, /readyz, /metrics.
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import {
  announceReady,
  createLogger,
  createMetrics,
  createRedis,
  installShutdown,
  loadConfig,
  QueueNames,
  registerOpsRoutes,
  runService,
} from '@playledger/common';
import { ValidatorConfig } from './config.ts';
import { createValidatorWorker } from './worker.ts';

async function main(): Promise<void> {
  const config = loadConfig(ValidatorConfig);
  const logger = createLogger({ name: 'validator', level: config.LOG_LEVEL });
  const metrics = createMetrics('validator');

  const connection = createRedis(config.REDIS_URL, 'worker', 'validator-worker');
  // a fail-fast connection for readiness and queue counts, so that /readyz answers even while Redis is away
  const probe = createRedis(config.REDIS_URL, 'producer', 'validator-probe');
  const validation = new Queue(QueueNames.validation, { connection: probe, prefix: config.QUEUE_PREFIX });

  const service = createValidatorWorker({
    connection,
    prefix: config.QUEUE_PREFIX,
    logger,
    metrics,
    concurrency: config.VALIDATOR_CONCURRENCY,
  });

  const app = Fastify({ logger: false });
  registerOpsRoutes(app, {
    registry: metrics.registry,
    checks: { redis: () => probe.ping() },
    beforeScrape: async () => {
      const counts = await validation.getJobCounts();
      for (const [state, n] of Object.entries(counts))
        metrics.queueJobs.set({ queue: QueueNames.validation, state }, n);
    },
  });

  installShutdown(
    logger,
    [
      { name: 'worker', close: () => service.close() },
      { name: 'http', close: () => app.close() },
      { name: 'queues', close: () => validation.close() },
      { name: 'redis', close: async () => Promise.all([connection.quit(), probe.quit()]) },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
  );

  await app.listen({ port: config.PORT, host: config.HOST });
  await service.worker.waitUntilReady();
  announceReady(logger, app);
}

runService('validator', main);
