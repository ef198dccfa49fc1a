// Redis connections made the way BullMQ recommends:
// workers block on Redis and must retry forever; producers (HTTP handlers, schedulers) must fail fast.
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer';

export function redisOptions(role: RedisRole): RedisOptions {
  const reconnect: RedisOptions = {
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    // BullMQ keys are prefixed through its own `prefix` option; ioredis keyPrefix breaks it.
    keyPrefix: undefined,
  };
  if (role === 'worker') return { ...reconnect, maxRetriesPerRequest: null, enableReadyCheck: true };
  return { ...reconnect, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 };
}

export function createRedis(url: string, role: RedisRole, connectionName?: string): Redis {
  return new Redis(url, { ...redisOptions(role), connectionName });
}
