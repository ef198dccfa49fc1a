// Responsible for manual extraction requests: one pending extraction per user at a time. A per-user lock in
// Redis makes "find the pending one, else start one and enqueue it" atomic across concurrent requests and replicas.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExtractionRequest, Logger } from '@playledger/common';
import type { Extraction, Store } from '@playledger/store';

export interface ManualExtractionDeps {
  store: Store;
  extractions: Queue;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
}

const LOCK_TTL_MS = 15_000;
const LOCK_WAIT_MS = 10_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

async function withUserLock<T>(deps: ManualExtractionDeps, userId: string, work: () => Promise<T>): Promise<T> {
  const key = `${deps.keyPrefix}:api:extraction-lock:${userId}`;
  const owner = randomBytes(16).toString('hex');
  const deadline = Date.now() + LOCK_WAIT_MS;
  while ((await deps.redis.set(key, owner, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the extraction lock of user ${userId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await work();
  } finally {
    await deps.redis.eval(RELEASE, 1, key, owner);
  }
}

/** Returns the user's pending extraction, or starts one and enqueues its job (jobId = extractionId). */
export async function requestExtraction(
  deps: ManualExtractionDeps,
  userId: string,
): Promise<{ extraction: Extraction; created: boolean }> {
  return withUserLock(deps, userId, async () => {
    const pending = await deps.store.findPendingExtraction(userId);
    if (pending) return { extraction: pending, created: false };

    const id = `manual-${randomUUID()}`;
    const extraction = await deps.store.startExtraction({ id, userId, trigger: 'manual', requestedAt: new Date() });
    const data: ExtractionRequest = { userId, trigger: 'manual', extractionId: id };
    try {
      await deps.extractions.add('manual-extraction', data, { jobId: id });
    } catch (error) {
      // Without its job the record would stay pending and be handed back to every later request.
      await deps.store.finishExtraction(id, 'failed', 'could not be enqueued').catch(() => undefined);
      throw error;
    }
    deps.logger.info({ userId, extractionId: id }, 'manual extraction enqueued');
    return { extraction, created: true };
  });
}
