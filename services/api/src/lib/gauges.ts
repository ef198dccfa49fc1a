// Gauges sampled when /metrics is scraped: jobs per queue and state, users needing to log in again, users whose
// refresh token ends within 14 days, and per user the seconds since the last successful extraction.
import type { Queue } from 'bullmq';
import type { Metrics } from '@playledger/common';
import type { Store } from '@playledger/store';
import { usersExpiringBefore } from './expiry.ts';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const DAY_MS = 24 * 3600 * 1000;

export function createGaugeSampler(deps: { store: Store; queues: Queue[]; metrics: Metrics }): () => Promise<void> {
  const { store, queues, metrics } = deps;
  let running: Promise<void> | undefined;

  async function sample(): Promise<void> {
    await Promise.all(
      queues.map(async (queue) => {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) metrics.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
      }),
    );
    const now = Date.now();
    const [reauth, expiring, users] = await Promise.all([
      store.listUsers({ status: 'needs_reauth' }),
      usersExpiringBefore(store, new Date(now + 14 * DAY_MS)),
      store.listUsers(),
    ]);
    metrics.usersNeedingReauth.set(reauth.length);
    metrics.usersExpiringSoon.set(expiring.length);

    const since = await Promise.all(
      users.map(async (u) => {
        const [done, empty] = await Promise.all([
          store.listExtractions({ userId: u.userId, state: 'done', limit: 1 }),
          store.listExtractions({ userId: u.userId, state: 'no_new_plays', limit: 1 }),
        ]);
        const last = [done.items[0]?.finishedAt, empty.items[0]?.finishedAt]
          .filter((d): d is Date => d instanceof Date)
          .reduce<Date | null>((a, b) => (a === null || b > a ? b : a), null);
        return { userId: u.userId, last };
      }),
    );
    // Reset first, so that a deleted user's series disappears.
    metrics.secondsSinceExtraction.reset();
    for (const { userId, last } of since) {
      if (last) metrics.secondsSinceExtraction.set({ user: userId }, (now - last.getTime()) / 1000);
    }
  }

  // Overlapping scrapes share one sampling run.
  return () => {
    running ??= sample().finally(() => {
      running = undefined;
    });
    return running;
  };
}
