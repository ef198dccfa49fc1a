// A producer connection refuses commands until it is connected (no offline queue), so a process waits for it
// once at start-up instead of failing its first requests.
import { once } from 'node:events';
import type { Redis } from 'ioredis';

export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
}
