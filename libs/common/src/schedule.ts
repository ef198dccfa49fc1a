// The one place a user's extraction schedule is registered or removed: a BullMQ job scheduler whose id comes
// from the user (registering twice changes nothing), with an offset derived from the user so that users do not
// all call Spotify at once.
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { defaultJobOptions, type ExtractionRequest } from './queues.ts';

export function schedulerIdFor(userId: string): string {
  return `user:${userId}`;
}

/** A stable offset in [0, intervalMs) from the user id. */
export function offsetFor(userId: string, intervalMs: number): number {
  const digest = createHash('sha256').update(userId).digest();
  return digest.readUInt32BE(0) % intervalMs;
}

export async function scheduleUser(queue: Queue, userId: string, intervalMs: number): Promise<void> {
  const data: ExtractionRequest = { userId, trigger: 'scheduled' };
  await queue.upsertJobScheduler(
    schedulerIdFor(userId),
    { every: intervalMs, offset: offsetFor(userId, intervalMs) },
    // the options travel with the template, so scheduled runs are retried and removed the same way whichever
    // service's Queue registered them
    { name: 'scheduled-extraction', data, opts: defaultJobOptions },
  );
}

export async function unscheduleUser(queue: Queue, userId: string): Promise<boolean> {
  return queue.removeJobScheduler(schedulerIdFor(userId));
}

/** The user ids that have a schedule now (for reconciliation with the store). */
export async function scheduledUsers(queue: Queue): Promise<string[]> {
  const schedulers = await queue.getJobSchedulers(0, -1);
  return schedulers.map((s) => s.key).filter((k) => k.startsWith('user:')).map((k) => k.slice('user:'.length));
}
