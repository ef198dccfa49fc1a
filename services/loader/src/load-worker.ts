// The load worker: one LoadJob = one call to store.loadBatch (one transaction, set-based, idempotent).
// Transient database failures are retried with the queue's backoff; when the last attempt fails (or the failure is
// permanent) the batch is dead-lettered (stage 'loader', rule 'load-failed') and its extraction marked failed.
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import Schema from 'typebox/schema';
import Value from 'typebox/value';
import {
  LoadJob,
  QueueNames,
  defaultJobOptions,
  redactString,
  type DeadLetterJob,
  type Logger,
  type Metrics,
  WORKER_LOCK_SETTINGS,
} from '@playledger/common';
import { FINAL_EXTRACTION_STATES, type Store } from '@playledger/store';
import { classifyDbError } from './db-errors.ts';

export const LOAD_FAILED_RULE = 'load-failed';

/** compiled once: the interpreted Value.Check of a 50-play batch cost milliseconds of CPU per job */
const loadJobSchema = Schema.Compile(LoadJob);

export interface LoadWorkerDeps {
  /** a connection made with createRedis(url, 'worker') */
  connection: Redis;
  prefix: string;
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  concurrency?: number;
}

export interface LoadOutcome {
  newPlays: number;
  knownPlays: number;
  gapId: string | null;
  /** the extraction was already done: a second delivery, which changed nothing */
  redelivery: boolean;
}

function errorMessage(error: unknown): string {
  return redactString(error instanceof Error ? error.message : String(error));
}

function withoutReplay(job: LoadJob): LoadJob {
  const { replayOf: _replayOf, ...batch } = job;
  return batch;
}

function safeId(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '-');
}

export function createLoadWorker(
  deps: LoadWorkerDeps,
  deadLetterQueue: Queue<DeadLetterJob>,
): Worker<LoadJob, LoadOutcome> {
  const { store, metrics } = deps;

  async function load(job: Job<LoadJob>, log: Logger): Promise<LoadOutcome> {
    const data = job.data;
    const result = await store.loadBatch(data);
    // the store says whether the extraction was already loaded before this call (no separate read before the load)
    const redelivery = result.redelivery === true;
    if (data.replayOf !== undefined) await store.resolveDeadLetter(data.replayOf);

    // counters follow the extraction records: a second delivery of a batch adds nothing to either
    if (!redelivery) {
      metrics?.playsNew.inc(result.newPlays);
      metrics?.playsKnown.inc(result.knownPlays);
      if (result.gap) metrics?.gaps.inc();
    }
    if (result.gap && !redelivery) {
      const { id, from, to } = result.gap;
      log.warn(
        { gapId: id, from: from.toISOString(), to: to.toISOString() },
        'gap in the listening history: plays between from and to may be lost',
      );
    }
    log.info(
      { newPlays: result.newPlays, knownPlays: result.knownPlays, redelivery, replayOf: data.replayOf },
      'batch loaded',
    );
    return { newPlays: result.newPlays, knownPlays: result.knownPlays, gapId: result.gap?.id ?? null, redelivery };
  }

  /** The last attempt failed: the batch goes to the dead letters and its extraction is failed (best effort). */
  async function giveUp(job: Job<LoadJob>, error: unknown, log: Logger): Promise<void> {
    const data = job.data;
    const attempt = job.attemptsMade + 1;
    const message = `loading the batch failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${errorMessage(error)}`;
    const deadLetter: DeadLetterJob = {
      extractionId: data.extractionId,
      userId: data.userId,
      stage: 'loader',
      rule: LOAD_FAILED_RULE,
      field: null,
      message,
      // the whole batch as first published, so that a replay is one load job again and the same batch failing
      // again (after a replay) counts on the same dead letter
      record: withoutReplay(data),
      rejectedAt: new Date().toISOString(),
    };
    await deadLetterQueue.add(LOAD_FAILED_RULE, deadLetter, {
      jobId: `dl-${safeId(job.id ?? `load-${data.extractionId}`)}`,
    });
    metrics?.playsDeadLettered.inc({ stage: 'loader', rule: LOAD_FAILED_RULE });
    log.error({ err: error, attempt }, 'batch dead-lettered: loading failed for good');
    try {
      const extraction = await store.getExtraction(data.extractionId);
      if (extraction && !FINAL_EXTRACTION_STATES.includes(extraction.state)) {
        await store.finishExtraction(data.extractionId, 'failed', message);
      }
    } catch (finishError) {
      // the database is likely still away; the extractor's failStaleExtractions will fail the record later
      log.error({ err: finishError }, 'could not mark the extraction failed');
    }
  }

  async function process(job: Job<LoadJob>): Promise<LoadOutcome> {
    const started = performance.now();
    if (!loadJobSchema.Check(job.data)) {
      const problem = [...Value.Errors(LoadJob, job.data)][0];
      throw new UnrecoverableError(
        `not a load job: ${problem ? `${problem.instancePath} ${problem.message}` : 'invalid'}`,
      );
    }
    const log = deps.logger.child({ jobId: job.id, extractionId: job.data.extractionId, userId: job.data.userId });
    try {
      return await load(job, log);
    } catch (error) {
      const kind = classifyDbError(error);
      const attempts = job.opts.attempts ?? 1;
      const attempt = job.attemptsMade + 1;
      if (kind === 'transient' && attempt < attempts) {
        log.warn({ err: error, attempt, attempts }, 'loading failed; will retry');
        throw error;
      }
      await giveUp(job, error, log);
      throw kind === 'permanent' ? new UnrecoverableError(errorMessage(error)) : error;
    } finally {
      metrics?.jobDuration.observe({ queue: QueueNames.load }, (performance.now() - started) / 1000);
    }
  }

  const worker = new Worker<LoadJob, LoadOutcome>(QueueNames.load, process, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? 4,
    ...WORKER_LOCK_SETTINGS,
  });
  worker.on('completed', () => metrics?.jobs.inc({ queue: QueueNames.load, outcome: 'completed' }));
  worker.on('failed', () => metrics?.jobs.inc({ queue: QueueNames.load, outcome: 'failed' }));
  worker.on('error', (error) => deps.logger.error({ err: error }, 'load worker error'));
  // a job whose worker died (lock expired) goes back to waiting; another worker takes it up
  worker.on('stalled', (jobId) =>
    deps.logger.warn({ jobId, queue: QueueNames.load }, 'stalled job moved back to waiting'),
  );
  return worker;
}

export function createDeadLetterQueue(deps: Pick<LoadWorkerDeps, 'connection' | 'prefix'>): Queue<DeadLetterJob> {
  return new Queue<DeadLetterJob>(QueueNames.deadLetters, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions,
  });
}
