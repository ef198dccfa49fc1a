// The loader's workers built from their dependencies (no connection is made here beyond BullMQ's own).
import type { Queue, Worker } from 'bullmq';
import type { DeadLetterJob, LoadJob } from '@playledger/common';
import { createDeadLetterWorker, type DeadLetterOutcome } from './dead-letter-worker.ts';
import { createDeadLetterQueue, createLoadWorker, type LoadOutcome, type LoadWorkerDeps } from './load-worker.ts';

export type LoaderDeps = LoadWorkerDeps;

export interface LoaderWorkers {
  loadWorker: Worker<LoadJob, LoadOutcome>;
  deadLetterWorker: Worker<DeadLetterJob, DeadLetterOutcome>;
  /** where failed batches are published */
  deadLetterQueue: Queue<DeadLetterJob>;
  waitUntilReady(): Promise<void>;
  /** stops taking jobs, lets active ones finish; the store and the connection are the caller's to close */
  close(): Promise<void>;
}

export function createLoaderWorkers(deps: LoaderDeps): LoaderWorkers {
  const deadLetterQueue = createDeadLetterQueue(deps);
  const loadWorker = createLoadWorker(deps, deadLetterQueue);
  const deadLetterWorker = createDeadLetterWorker(deps);
  return {
    loadWorker,
    deadLetterWorker,
    deadLetterQueue,
    async waitUntilReady() {
      await Promise.all([loadWorker.waitUntilReady(), deadLetterWorker.waitUntilReady()]);
    },
    async close() {
      await Promise.all([loadWorker.close(), deadLetterWorker.close()]);
      await deadLetterQueue.close();
    },
  };
}
