// Schedule reconciliation against the machine's Redis, with the store's user list as a small in-memory fake.
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger, scheduleUser, scheduledUsers } from '@playledger/common';
import type { User, UserStatus } from '@playledger/store';
import { reconcileOnce, startReconciler, type ReconcileDeps } from '../src/reconcile.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(users: Record<string, UserStatus>) {
  const prefix = uniquePrefix('reconcile');
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('extractions', { connection, prefix });
  cleanups.push(() => dropPrefix(prefix), async () => connection.quit(), () => queue.close());
  const stale: Date[] = [];
  const deps: ReconcileDeps = {
    store: {
      listUsers: (filter) =>
        Promise.resolve(
          Object.entries(users)
            .filter(([, status]) => !filter?.status || status === filter.status)
            .map(([userId, status]) => ({ userId, status }) as User),
        ),
      failStaleExtractions: (olderThan) => {
        stale.push(olderThan);
        return Promise.resolve(0);
      },
    },
    queue,
    intervalMs: 600_000,
    staleAfterMs: 60_000,
    now: () => new Date('2026-01-01T01:00:00Z'),
    logger: createLogger({ name: 'test', level: 'silent' }),
  };
  return { deps, queue, users, stale };
}

describe('schedule reconciliation', () => {
  it('schedules active users, unschedules the others, and sweeps stale extractions', async () => {
    const { deps, queue, stale } = setup({ a: 'active', b: 'active', p: 'paused', r: 'needs_reauth' });
    await scheduleUser(queue, 'p', 600_000);
    await scheduleUser(queue, 'gone', 600_000);
    const result = await reconcileOnce(deps, true);
    expect(result).toEqual({ scheduled: 2, unscheduled: 2, staleFailed: 0 });
    expect((await scheduledUsers(queue)).sort()).toEqual(['a', 'b']);
    expect(stale).toEqual([new Date('2026-01-01T00:59:00Z')]);
  });

  it('puts back schedules lost with Redis data', async () => {
    const { deps, queue } = setup({ a: 'active' });
    await reconcileOnce(deps, true);
    await queue.removeJobScheduler('user:a');
    expect(await scheduledUsers(queue)).toEqual([]);
    expect(await reconcileOnce(deps)).toMatchObject({ scheduled: 1 });
    expect(await scheduledUsers(queue)).toEqual(['a']);
  });

  it('never runs two reconciliations at once', async () => {
    const { deps } = setup({ a: 'active' });
    let running = 0;
    let maxRunning = 0;
    const list = deps.store.listUsers.bind(deps.store);
    deps.store.listUsers = async (filter) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 50));
      running -= 1;
      return list(filter);
    };
    const reconciler = startReconciler(deps, 10);
    await Promise.all([reconciler.runNow(), reconciler.runNow(), reconciler.runNow()]);
    await new Promise((r) => setTimeout(r, 200));
    await reconciler.stop();
    expect(maxRunning).toBe(1);
  });
});
