// The api process: read config, create the dependencies, build the app, listen, and shut down cleanly.
import { Queue } from 'bullmq';
import {
  ALL_QUEUES,
  announceReady,
  createLogger,
  createMetrics,
  createRedis,
  defaultJobOptions,
  installShutdown,
  type QueueName,
  registerSecret,
  runService,
} from '@playledger/common';
import { createStore } from '@playledger/store';
import { buildApp } from './app.ts';
import { loadApiConfig } from './config.ts';
import { waitForRedis } from './lib/redis-ready.ts';
import { API_NODE_OPTIONS, heapTuned } from './lib/runtime.ts';

async function main(): Promise<void> {
  const config = loadApiConfig();
  registerSecret(config.API_TOKEN);
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL });
  if (!heapTuned()) {
    logger.warn(
      { recommended: `NODE_OPTIONS="${API_NODE_OPTIONS}"` },
      'the V8 heap runs with its defaults: exports will raise resident memory until a late GC',
    );
  }

  const redis = createRedis(config.REDIS_URL, 'producer', 'api');
  const queueConnection = createRedis(config.REDIS_URL, 'producer', 'api-queues');
  const queues = Object.fromEntries(
    ALL_QUEUES.map((name) => [
      name,
      new Queue(name, { connection: queueConnection, prefix: config.QUEUE_PREFIX, defaultJobOptions }),
    ]),
  ) as Record<QueueName, Queue>;
  const store = await createStore({ kind: config.STORE_KIND, url: config.DATABASE_URL, logger });
  const metrics = createMetrics('api');

  const app = await buildApp({ config, store, redis, queues, metrics, logger });

  installShutdown(
    logger,
    [
      { name: 'http', close: () => app.close() },
      { name: 'queues', close: () => Promise.all(Object.values(queues).map((q) => q.close())) },
      { name: 'store', close: () => store.close() },
      { name: 'redis', close: () => Promise.all([redis.quit(), queueConnection.quit()]) },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
  );

  await Promise.all([waitForRedis(redis), waitForRedis(queueConnection), store.migrate()]);
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  announceReady(logger, app, { address });
}

runService('api', main);
