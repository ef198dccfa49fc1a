// Responsible for replaying a dead letter to the stage that rejected it, with the operator's correction when
// there is one: validator rejections go back to `validation` as a one-item raw page, loader rejections to `load`.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import Value from 'typebox/value';
import { LoadJob, NormalizedPlay, type Logger, type RawPageJob } from '@playledger/common';
import type { DeadLetter, Store } from '@playledger/store';
import type { ReplayResult } from '../schemas/dead-letters.ts';

export interface ReplayDeps {
  store: Store;
  validation: Queue;
  load: Queue;
  logger: Logger;
}

/** The dead letter cannot be replayed as it is (the caller answers 409/422 with the message). */
export class ReplayRefused extends Error {
  override readonly name = 'ReplayRefused';
  readonly code: 'conflict' | 'unprocessable';
  constructor(code: 'conflict' | 'unprocessable', message: string) {
    super(message);
    this.code = code;
  }
}

/** Job ids may not contain ':'; each replay gets its own id so that a second replay is not deduplicated away. */
function replayJobId(deadLetterId: string): string {
  return `replay-${deadLetterId.replace(/[^A-Za-z0-9_-]/g, '-')}-${randomUUID()}`;
}

function loadJobFrom(record: unknown, d: DeadLetter, fetchedAt: string): LoadJob {
  if (Value.Check(LoadJob, record)) return { ...record, replayOf: d.id };
  if (Value.Check(NormalizedPlay, record)) {
    return {
      extractionId: d.extractionId,
      userId: d.userId,
      fetchedAt,
      plays: [record],
      page: {
        fetched: 1,
        full: false,
        oldestPlayedAt: record.playedAt,
        newestPlayedAt: record.playedAt,
        deadLettered: 0,
        duplicatesCollapsed: 0,
      },
      replayOf: d.id,
    };
  }
  throw new ReplayRefused('unprocessable', 'the record is neither a normalized play nor a load batch: correct it first');
}

export async function replayDeadLetter(deps: ReplayDeps, d: DeadLetter): Promise<ReplayResult> {
  if (d.status === 'resolved') throw new ReplayRefused('conflict', 'this dead letter was already replayed and loaded');
  const usedCorrection = d.correction !== null && d.correction !== undefined;
  const record = usedCorrection ? d.correction : d.record;
  const extraction = await deps.store.getExtraction(d.extractionId);
  const fetchedAt = (extraction?.fetchedAt ?? d.firstSeenAt).toISOString();
  const jobId = replayJobId(d.id);

  let queue: Queue;
  switch (d.stage) {
    case 'validator': {
      const job: RawPageJob = {
        extractionId: d.extractionId,
        userId: d.userId,
        fetchedAt,
        items: [record],
        limit: 50,
        replayOf: d.id,
      };
      queue = deps.validation;
      await queue.add('replay', job, { jobId });
      break;
    }
    case 'loader': {
      queue = deps.load;
      await queue.add('replay', loadJobFrom(record, d, fetchedAt), { jobId });
      break;
    }
    case 'extractor':
      throw new ReplayRefused('unprocessable', 'extractor rejections hold no record to replay: request an extraction');
  }
  await deps.store.markDeadLetterReplayed(d.id);
  deps.logger.info({ deadLetterId: d.id, queue: queue.name, jobId, usedCorrection }, 'dead letter replayed');
  return { id: d.id, replayed: true, queue: queue.name, jobId, usedCorrection };
}
