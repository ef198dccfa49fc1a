// The loader's configuration: Redis, the queue prefix, the store, its HTTP port (ops routes) and logging.
import Type, { type Static } from 'typebox';
import { ConfigVars } from '@playledger/common';

export const LoaderConfig = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  QUEUE_PREFIX: ConfigVars.QUEUE_PREFIX,
  STORE_KIND: ConfigVars.STORE_KIND,
  DATABASE_URL: ConfigVars.DATABASE_URL,
  PORT: ConfigVars.port(8084),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'the address to listen on, such as 0.0.0.0' }),
  SHUTDOWN_TIMEOUT_MS: ConfigVars.SHUTDOWN_TIMEOUT_MS,
  LOADER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'batches (and dead letters) handled at once by this process (1-64)',
  }),
  LOADER_CATALOG_CACHE_ENTRIES: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 20_000,
    description:
      'tracks (with their album and artists) this process remembers as stored, so that batches repeating them send only their plays (0 turns it off; about 1 KB each)',
  }),
});
export type LoaderConfig = Static<typeof LoaderConfig>;
