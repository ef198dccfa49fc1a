// The dead-letter worker: every rejected record on `dead-letters` is kept in the store's dead_letters table, where
// the same record rejected again for the same stage and rule updates its times seen instead of adding a row.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import Value from 'typebox/value';
import { DeadLetterJob, QueueNames, WORKER_LOCK_SETTINGS } from '@playledger/common';
import { classifyDbError } from './db-errors.ts';
import type { LoadWorkerDeps } from './load-worker.ts';

export interface DeadLetterOutcome {
  deadLetterId: string;
  timesSeen: number;
}

export function createDeadLetterWorker(deps: LoadWorkerDeps): Worker<DeadLetterJob, DeadLetterOutcome> {
  const { store, metrics } = deps;

  async function process(job: Job<DeadLetterJob>): Promise<DeadLetterOutcome> {
    const started = performance.now();
    if (!Value.Check(DeadLetterJob, job.data)) {
      const problem = [...Value.Errors(DeadLetterJob, job.data)][0];
      throw new UnrecoverableError(
        `not a dead letter: ${problem ? `${problem.instancePath} ${problem.message}` : 'invalid'}`,
      );
    }
    const { extractionId, userId, stage, rule, field } = job.data;
    const log = deps.logger.child({ jobId: job.id, extractionId, userId });
    try {
      const kept = await store.recordDeadLetter(job.data);
      log.info({ deadLetterId: kept.id, stage, rule, field, timesSeen: kept.timesSeen }, 'dead letter kept');
      return { deadLetterId: kept.id, timesSeen: kept.timesSeen };
    } catch (error) {
      if (classifyDbError(error) === 'permanent')
        throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
      log.warn({ err: error, attempt: job.attemptsMade + 1 }, 'keeping the dead letter failed; will retry');
      throw error;
    } finally {
      metrics?.jobDuration.observe({ queue: QueueNames.deadLetters }, (performance.now() - started) / 1000);
    }
  }

  const worker = new Worker<DeadLetterJob, DeadLetterOutcome>(QueueNames.deadLetters, process, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? 4,
    ...WORKER_LOCK_SETTINGS,
  });
  worker.on('completed', () => metrics?.jobs.inc({ queue: QueueNames.deadLetters, outcome: 'completed' }));
  worker.on('failed', (job, error) => {
    metrics?.jobs.inc({ queue: QueueNames.deadLetters, outcome: 'failed' });
    if (!job || error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1)) {
      deps.logger.error(
        { err: error, jobId: job?.id, extractionId: job?.data.extractionId },
        'dead letter could not be kept',
      );
    }
  });
  worker.on('error', (error) => deps.logger.error({ err: error }, 'dead-letter worker error'));
  // a job whose worker died (lock expired) goes back to waiting; another worker takes it up
  worker.on('stalled', (jobId) =>
    deps.logger.warn({ jobId, queue: QueueNames.deadLetters }, 'stalled job moved back to waiting'),
  );
  return worker;
}
