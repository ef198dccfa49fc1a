// Keeps the job schedulers in step with the store: every active user has one, nobody else does. Runs at start-up
// and then periodically (one run at a time, never overlapping), and sweeps extractions lost in transit so that a
// lost batch never hides a gap.
import type { Queue } from 'bullmq';
import { scheduleUser, scheduledUsers, unscheduleUser, type Logger } from '@playledger/common';
import type { Store } from '@playledger/store';

export interface ReconcileDeps {
  store: Pick<Store, 'listUsers' | 'failStaleExtractions'>;
  queue: Queue;
  intervalMs: number;
  staleAfterMs: number;
  now(): Date;
  logger: Logger;
}

export interface ReconcileResult {
  scheduled: number;
  unscheduled: number;
  staleFailed: number;
}

/**
 * One reconciliation. `refreshAll` (at start-up) registers every active user's scheduler again, so a changed
 * interval takes effect; later runs add only the missing ones (a new user, or a schedule lost with Redis's data).
 */
export async function reconcileOnce(deps: ReconcileDeps, refreshAll = false): Promise<ReconcileResult> {
  const active = new Set((await deps.store.listUsers({ status: 'active' })).map((u) => u.userId));
  const scheduled = new Set(await scheduledUsers(deps.queue));
  let added = 0;
  let removed = 0;
  // Registering again is harmless: the scheduler id comes from the user.
  for (const userId of active) {
    if (scheduled.has(userId) && !refreshAll) continue;
    await scheduleUser(deps.queue, userId, deps.intervalMs);
    if (!scheduled.has(userId)) added += 1;
  }
  for (const userId of scheduled) {
    if (active.has(userId)) continue;
    await unscheduleUser(deps.queue, userId);
    removed += 1;
  }
  const staleFailed = await deps.store.failStaleExtractions(new Date(deps.now().getTime() - deps.staleAfterMs));
  if (added > 0 || removed > 0 || staleFailed > 0) {
    deps.logger.info({ scheduled: added, unscheduled: removed, staleFailed, activeUsers: active.size }, 'schedules reconciled');
  }
  return { scheduled: added, unscheduled: removed, staleFailed };
}

export interface Reconciler {
  /** runs one reconciliation now (waits for a running one instead of overlapping it) */
  runNow(): Promise<ReconcileResult | null>;
  stop(): Promise<void>;
}

/** A guarded loop: the next run is planned only after the previous one ended, so runs never overlap. */
export function startReconciler(deps: ReconcileDeps, everyMs: number): Reconciler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ReconcileResult | null> | undefined;
  let refreshed = false;

  const run = (): Promise<ReconcileResult | null> => {
    running ??= reconcileOnce(deps, !refreshed)
      .then((result) => {
        refreshed = true;
        return result;
      })
      .catch((error: unknown) => {
        deps.logger.error({ err: error }, 'reconciliation failed; will try again');
        return null;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const loop = async (): Promise<void> => {
    await run();
    if (!stopped) timer = setTimeout(() => void loop(), everyMs);
  };
  void loop();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
