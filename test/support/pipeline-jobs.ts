// What the pipeline's queues hold, for tests and for the harness's timeout messages: one extraction's jobs, every
// job with its counters, and what failed for good or became a dead letter.
import { Queue, type Job } from 'bullmq';
import type { DeadLetterJob, ExtractionRequest, LoadJob, RawPageJob } from '@playledger/common';
import type { Store } from '@playledger/store';

export interface PipelineQueues {
  extractions: Queue<ExtractionRequest>;
  validation: Queue<RawPageJob>;
  load: Queue<LoadJob>;
  deadLetters: Queue<DeadLetterJob>;
}

export interface JobCounters {
  attemptsMade: number;
  stalledCounter: number;
  attemptsStarted: number;
}

export function jobCounters(job: Job<unknown>): JobCounters {
  return { attemptsMade: job.attemptsMade, stalledCounter: job.stalledCounter, attemptsStarted: job.attemptsStarted };
}

function pipelineQueues(queues: PipelineQueues): Queue<unknown>[] {
  return [queues.extractions, queues.validation, queues.load] as unknown as Queue<unknown>[];
}

/** The extraction's jobs on the three pipeline queues: state and counters (null where there is none). */
export async function jobSummary(queues: PipelineQueues, extractionId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const [extractions, validation, load] = pipelineQueues(queues) as [Queue<unknown>, Queue<unknown>, Queue<unknown>];
  const pairs: [string, Queue<unknown>, string][] = [
    ['extraction', extractions, extractionId],
    ['validation', validation, `raw-${extractionId}`],
    ['load', load, `load-${extractionId}`],
  ];
  for (const [name, queue, id] of pairs) {
    const job = (await queue.getJob(id)) as Job<unknown> | undefined;
    out[name] = job ? { state: await job.getState(), ...jobCounters(job) } : null;
  }
  return out;
}

/** Every job of the three pipeline queues (in any state), with its counters. */
export async function pipelineJobs(
  queues: PipelineQueues,
): Promise<({ queue: string; id: string; state: string } & JobCounters)[]> {
  const out = [];
  for (const q of pipelineQueues(queues)) {
    const jobs = await q.getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1);
    for (const job of jobs) {
      if (!job?.id) continue;
      out.push({ queue: q.name, id: job.id, state: await job.getState(), ...jobCounters(job) });
    }
  }
  return out;
}

/** Jobs failed for good on any queue, and dead letters in the queue or the table. */
export async function failuresAndDeadLetters(
  queues: PipelineQueues,
  store: Store,
): Promise<{ failedJobs: Record<string, number>; deadLetterJobs: number; deadLetterRows: number }> {
  const failedJobs: Record<string, number> = {};
  for (const q of [...pipelineQueues(queues), queues.deadLetters as unknown as Queue<unknown>]) {
    failedJobs[q.name] = await q.getFailedCount();
  }
  const counts = await queues.deadLetters.getJobCounts();
  const deadLetterJobs = Object.values(counts).reduce((a, b) => a + b, 0);
  const rows = await store.listDeadLetters({}, { limit: 100 });
  return { failedJobs, deadLetterJobs, deadLetterRows: rows.items.length };
}
