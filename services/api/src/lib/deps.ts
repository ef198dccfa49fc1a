// What the api is built from. main.ts creates these; tests create them against real Redis and PostgreSQL.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger, Metrics, QueueName } from '@playledger/common';
import type { Store } from '@playledger/store';
import type { ApiConfig } from '../config.ts';

export type ApiSettings = Pick<
  ApiConfig,
  'API_TOKEN' | 'QUEUE_PREFIX' | 'AUTH_PUBLIC_URL' | 'EXTRACTION_INTERVAL_MS' | 'SESSION_TTL_MS' | 'BODY_LIMIT_BYTES'
>;

export interface ApiDeps {
  config: ApiSettings;
  store: Store;
  /** a producer connection (fails fast): sessions, locks, the cached-token key */
  redis: Redis;
  /** one producer Queue per pipeline queue, with the shared prefix and default job options */
  queues: Record<QueueName, Queue>;
  metrics: Metrics;
  logger: Logger;
}
