// The validator's BullMQ worker: takes a raw page from `validation`, publishes the page's LoadJob on `load` and each
// rejected record on `dead-letters`, and touches nothing else (no database, no Spotify).
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import Schema from 'typebox/schema';
import Value from 'typebox/value';
import {
  QueueNames,
  RawPageJob,
  defaultJobOptions,
  type DeadLetterJob,
  type LoadJob,
  type Logger,
  type Metrics,
  WORKER_LOCK_SETTINGS,
} from '@playledger/common';
import { validatePage } from './validate-page.ts';

/** compiled once, as the loader does its LoadJob check */
const rawPageJobSchema = Schema.Compile(RawPageJob);

export interface ValidatorDeps {
  /** a connection made with createRedis(url, 'worker'): BullMQ blocks on it and it retries forever */
  connection: Redis;
  prefix: string;
  logger: Logger;
  metrics?: Metrics;
  /** the time "in the future" is measured against; tests may pin it */
  clock?: () => Date;
  concurrency?: number;
}

export interface ValidatorWorker {
  worker: Worker<RawPageJob>;
  loadQueue: Queue<LoadJob>;
  deadLetterQueue: Queue<DeadLetterJob>;
  close(): Promise<void>;
}

export interface ValidationOutcome {
  plays: number;
  deadLettered: number;
  duplicatesCollapsed: number;
}

/** Job ids may not contain ':' in BullMQ; ids from elsewhere are made safe. */
export function safeId(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * One load job per extraction. A replay of a dead letter is a load job of its own, named after the replay's
 * validation job, so that a record replayed a second time (after a new correction) is not taken for the first.
 */
export function loadJobIdFor(job: RawPageJob, validationJobId: string | undefined): string {
  const base = `load-${safeId(job.extractionId)}`;
  if (job.replayOf === undefined) return base;
  return `${base}-replay-${safeId(job.replayOf)}-${safeId(validationJobId ?? 'unknown')}`;
}

export function createValidatorWorker(deps: ValidatorDeps): ValidatorWorker {
  const { connection, prefix, metrics } = deps;
  const clock = deps.clock ?? (() => new Date());
  const loadQueue = new Queue<LoadJob>(QueueNames.load, { connection, prefix, defaultJobOptions });
  const deadLetterQueue = new Queue<DeadLetterJob>(QueueNames.deadLetters, { connection, prefix, defaultJobOptions });

  async function process(job: Job<RawPageJob>): Promise<ValidationOutcome> {
    const started = performance.now();
    if (!rawPageJobSchema.Check(job.data)) {
      const problem = [...Value.Errors(RawPageJob, job.data)][0];
      throw new UnrecoverableError(
        `not a raw page job: ${problem ? `${problem.instancePath} ${problem.message}` : 'invalid'}`,
      );
    }
    const log = deps.logger.child({ jobId: job.id, extractionId: job.data.extractionId, userId: job.data.userId });
    const { load, deadLetters } = validatePage(job.data, clock());
    const loadJobId = loadJobIdFor(job.data, job.id);
    // The load job is added last: when it is already there, this page was validated and counted before (a job
    // delivered again after its worker stalled, or after completing it failed); its rejections are not counted twice.
    // (Asked only when there are rejections to count: a clean page costs no extra round trip.)
    const counted = deadLetters.length > 0 && (await connection.exists(loadQueue.toKey(loadJobId))) === 1;

    // Fixed job ids: a retried or re-delivered validation publishes nothing twice while the first jobs are kept.
    if (deadLetters.length > 0) {
      await deadLetterQueue.addBulk(
        deadLetters.map((data, i) => ({ name: data.rule, data, opts: { jobId: `dl-${loadJobId}-${i}` } })),
      );
    }
    await loadQueue.add('load', load, { jobId: loadJobId });

    for (const d of deadLetters) {
      if (!counted) metrics?.playsDeadLettered.inc({ stage: 'validator', rule: d.rule });
      log.info({ rule: d.rule, field: d.field, reason: d.message }, 'record dead-lettered');
    }
    metrics?.jobDuration.observe({ queue: QueueNames.validation }, (performance.now() - started) / 1000);
    const outcome = {
      plays: load.plays.length,
      deadLettered: deadLetters.length,
      duplicatesCollapsed: load.page.duplicatesCollapsed,
    };
    log.info({ ...outcome, fetched: load.page.fetched, full: load.page.full, loadJobId }, 'page validated');
    return outcome;
  }

  const worker = new Worker<RawPageJob, ValidationOutcome>(QueueNames.validation, process, {
    connection,
    prefix,
    concurrency: deps.concurrency ?? 4,
    ...WORKER_LOCK_SETTINGS,
  });
  worker.on('completed', () => metrics?.jobs.inc({ queue: QueueNames.validation, outcome: 'completed' }));
  worker.on('failed', (job, error) => {
    metrics?.jobs.inc({ queue: QueueNames.validation, outcome: 'failed' });
    // an attempt that will be retried (Redis away for a moment) is a warning; a job failed for good is an error
    const final = !job || error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    const fields = {
      err: error,
      jobId: job?.id,
      extractionId: job?.data.extractionId,
      attemptsMade: job?.attemptsMade,
    };
    if (final) deps.logger.error(fields, 'validation job failed');
    else deps.logger.warn(fields, 'validation attempt failed; will retry');
  });
  worker.on('error', (error) => deps.logger.error({ err: error }, 'validator worker error'));
  // a job whose worker died (lock expired) goes back to waiting; another worker takes it up
  worker.on('stalled', (jobId) =>
    deps.logger.warn({ jobId, queue: QueueNames.validation }, 'stalled job moved back to waiting'),
  );

  return {
    worker,
    loadQueue,
    deadLetterQueue,
    async close() {
      await worker.close();
      await Promise.all([loadQueue.close(), deadLetterQueue.close()]);
    },
  };
}
