// The extractor's BullMQ worker: wires the plain processor to the extractions queue, the validation queue and
// the queue-wide pause that a 429 needs.
import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QueueNames,
  WORKER_LOCK_SETTINGS,
  type ExtractionRequest,
  type Metrics,
  type RawPageJob,
} from '@playledger/common';
import { processExtraction, type ExtractionOutcome, type ExtractorDeps } from './extract.ts';

export interface ExtractorWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** where raw pages go */
  validationQueue: Queue<RawPageJob>;
  metrics?: Pick<Metrics, 'jobs' | 'jobDuration'>;
}

export type ProcessorDeps = Omit<ExtractorDeps, 'publishRawPage' | 'rawPageExists' | 'rateLimit'>;

export function createExtractorWorker(deps: ProcessorDeps, options: ExtractorWorkerOptions): Worker<ExtractionRequest, ExtractionOutcome> {
  const publishRawPage = async (page: RawPageJob, jobId: string): Promise<void> => {
    await options.validationQueue.add('raw-page', page, { jobId });
  };
  const worker: Worker<ExtractionRequest, ExtractionOutcome> = new Worker<ExtractionRequest, ExtractionOutcome>(
    QueueNames.extractions,
    async (job) => {
      const stop = options.metrics?.jobDuration.startTimer({ queue: QueueNames.extractions });
      try {
        return await processExtraction(job, {
          ...deps,
          publishRawPage,
          rawPageExists: async (jobId) => (await options.validationQueue.getJob(jobId)) !== undefined,
          // Pauses the whole queue for every replica; the job then throws RateLimitError and is not charged an attempt.
          rateLimit: (ms) => worker.rateLimit(ms),
        });
      } finally {
        stop?.();
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      ...WORKER_LOCK_SETTINGS,
      // A manual rate limit (worker.rateLimit) is honoured only by workers that have a limiter; this one is far above
      // what Spotify would allow, so only the 429 pause ever limits.
      limiter: { max: 10_000, duration: 1_000 },
    },
  );
  worker.on('completed', () => options.metrics?.jobs.inc({ queue: QueueNames.extractions, outcome: 'completed' }));
  worker.on('failed', () => options.metrics?.jobs.inc({ queue: QueueNames.extractions, outcome: 'failed' }));
  return worker;
}
