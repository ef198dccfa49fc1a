// How fast a job held by a dead worker is taken up again; every worker of the pipeline uses these.
//
// A worker holds a lock on each active job and renews it every lockDuration / 2. When the process dies (SIGKILL,
// OOM, a lost node) the lock simply expires; every stalledInterval each worker looks for active jobs without a lock
// and moves them back to waiting, where any replica picks them up. Worst case from the kill to the job being
// available again: lockDuration + stalledInterval = 9 s (BullMQ's defaults give 60 s).
// The price of short locks: a worker whose event loop or Redis link stalls for more than 6 s loses its lock and the
// job may run twice. That is safe here: publishing uses fixed job ids and the loader's upsert is idempotent.
// maxStalledCount 2: a job may be recovered twice (two crashes in a row) before BullMQ fails it as stalled.
import type { WorkerOptions } from 'bullmq';

export const WORKER_LOCK_SETTINGS = {
  lockDuration: 6_000,
  stalledInterval: 3_000,
  maxStalledCount: 2,
} as const satisfies Partial<WorkerOptions>;
