// One extraction of one user: a fresh token from auth, the newest 50 plays from Spotify (one call), and either
// "no new plays" at once or the raw page published to the validation queue under an id derived from the extraction.
import type { Job } from 'bullmq';
import { RateLimitError, UnrecoverableError } from 'bullmq';
import {
  PermanentError,
  RateLimitedError,
  ReauthRequiredError,
  extractionIdFor,
  type ExtractionRequest,
  type Logger,
  type Metrics,
  type RawPageJob,
} from '@playledger/common';
import type { ExtractionState, Store } from '@playledger/store';
import { slimItem, summarizePage } from './page.ts';

export const PAGE_LIMIT = 50;

/** The recently-played page as the extractor needs it; `items` stay unchecked. */
export interface RecentlyPlayedPage {
  items: unknown[];
}

export interface ExtractorDeps {
  store: Pick<Store, 'startExtraction' | 'countUnknownPlays' | 'finishExtraction' | 'markExtractionFetched'>;
  /** a fresh access token for the user; `rejectedToken` forces one refresh (Spotify answered 401 to it) */
  getAccessToken(userId: string, rejectedToken?: string): Promise<string>;
  /** GET /v1/me/player/recently-played?limit=N; throws the Spotify client's typed errors */
  getRecentlyPlayed(accessToken: string, limit: number): Promise<RecentlyPlayedPage>;
  /** true when the error says Spotify rejected the access token (401) */
  isTokenRejected(error: unknown): boolean;
  /** adds the raw page to the validation queue; a job id already there is a no-op */
  publishRawPage(page: RawPageJob, jobId: string): Promise<void>;
  /** whether a raw page with this job id is (still) on the validation queue */
  rawPageExists(jobId: string): Promise<boolean>;
  /** pauses the whole extractions queue (every replica) for `ms` */
  rateLimit(ms: number): Promise<void>;
  /** pause after QUOTA_EXCEEDED when Spotify gave no Retry-After */
  quotaPauseMs: number;
  now(): Date;
  logger: Logger;
  metrics?: Pick<Metrics, 'playsExtracted' | 'spotifyCalls' | 'jobs'>;
}

export type ExtractionOutcome =
  | { extractionId: string; outcome: 'already-handled'; state: ExtractionState }
  | { extractionId: string; outcome: 'no_new_plays'; fetched: number }
  | { extractionId: string; outcome: 'published'; fetched: number; unknown: number };

export type ExtractionJob = Pick<Job<ExtractionRequest>, 'id' | 'data' | 'attemptsMade' | 'opts'>;

export async function processExtraction(job: ExtractionJob, deps: ExtractorDeps): Promise<ExtractionOutcome> {
  const request = job.data;
  const extractionId = extractionIdFor(request, job.id);
  const log = deps.logger.child({ extractionId, userId: request.userId, jobId: job.id });
  try {
    // idempotent: a retried job, or a manual request whose record the api created, finds its record unchanged
    const record = await deps.store.startExtraction({
      id: extractionId,
      userId: request.userId,
      trigger: request.trigger,
      requestedAt: deps.now(),
    });
    if (await alreadyHandled(record.state, extractionId, deps)) {
      log.info({ state: record.state }, 'extraction already handled; a second delivery changes nothing');
      return { extractionId, outcome: 'already-handled', state: record.state };
    }
    return await extract(request, extractionId, deps, log);
  } catch (error) {
    throw await settleFailure(error, job, extractionId, deps, log);
  }
}

async function extract(
  request: ExtractionRequest,
  extractionId: string,
  deps: ExtractorDeps,
  log: Logger,
): Promise<ExtractionOutcome> {
  const page = await readNewestPlays(request.userId, deps);
  const fetchedAt = deps.now();
  const summary = summarizePage(page.items);
  const unknown = (await deps.store.countUnknownPlays(request.userId, summary.keys)) + summary.unkeyed;
  if (unknown === 0) {
    await deps.store.finishExtraction(extractionId, 'no_new_plays', null);
    log.info({ fetched: page.items.length }, 'no new plays');
    return { extractionId, outcome: 'no_new_plays', fetched: page.items.length };
  }
  await deps.store.markExtractionFetched(extractionId, {
    fetchedAt,
    fetched: page.items.length,
    full: page.items.length >= PAGE_LIMIT,
    oldestPlayedAt: summary.oldestPlayedAt,
    newestPlayedAt: summary.newestPlayedAt,
  });
  const raw: RawPageJob = {
    extractionId,
    userId: request.userId,
    fetchedAt: fetchedAt.toISOString(),
    items: page.items.map(slimItem),
    limit: PAGE_LIMIT,
  };
  // The job id comes from the extraction: a retried extraction adds the same id again, which BullMQ ignores.
  await deps.publishRawPage(raw, rawPageJobId(extractionId));
  // counted once the page is published, like the record's `fetched`: a page with nothing new is not counted, and a
  // retried extraction whose first attempt stopped before publishing is counted by the attempt that publishes
  deps.metrics?.playsExtracted.inc(page.items.length);
  log.info({ fetched: page.items.length, unknown }, 'page published');
  return { extractionId, outcome: 'published', fetched: page.items.length, unknown };
}

/**
 * A job delivered again (a stalled worker, a duplicate request) must not read Spotify again and publish or
 * finish a second, different page for the same extraction: once the page went on (or the record is final), stop.
 * 'validating' with no raw page on the queue means the first attempt stopped between the two steps: go on.
 */
async function alreadyHandled(state: ExtractionState, extractionId: string, deps: ExtractorDeps): Promise<boolean> {
  switch (state) {
    case 'pending':
      return false;
    case 'validating':
      return deps.rawPageExists(rawPageJobId(extractionId));
    case 'loading':
    case 'done':
    case 'no_new_plays':
    case 'failed':
      return true;
  }
}

export function rawPageJobId(extractionId: string): string {
  return `raw-${extractionId}`;
}

/** One call to Spotify; on a 401 one forced refresh (naming the rejected token) and one more call. */
async function readNewestPlays(userId: string, deps: ExtractorDeps): Promise<RecentlyPlayedPage> {
  const token = await deps.getAccessToken(userId);
  try {
    return await deps.getRecentlyPlayed(token, PAGE_LIMIT);
  } catch (error) {
    if (!deps.isTokenRejected(error)) throw error;
    deps.logger.info({ userId }, 'access token rejected by Spotify; asking auth for a fresh one');
    const fresh = await deps.getAccessToken(userId, token);
    return await deps.getRecentlyPlayed(fresh, PAGE_LIMIT);
  }
}

/**
 * Turns a failure into what BullMQ must do with the job, and makes sure the extraction record ends in a final
 * state whenever the job will not run again:
 * - rate limited (429, QUOTA_EXCEEDED, from Spotify or from auth): pause the whole queue, no attempt charged;
 * - the user must log in again, or the request is wrong for good: fail now, without retries;
 * - anything else (5xx, timeouts, database, network): retried with backoff; the last attempt fails the record.
 */
async function settleFailure(
  error: unknown,
  job: ExtractionJob,
  extractionId: string,
  deps: ExtractorDeps,
  log: Logger,
): Promise<Error> {
  if (error instanceof RateLimitedError) {
    const retryIn = error.until.getTime() - deps.now().getTime();
    const pauseMs = retryIn > 0 ? retryIn : error.reason === 'quota-exceeded' ? deps.quotaPauseMs : 1_000;
    log.warn({ reason: error.reason, pauseMs }, 'Spotify asked us to wait; pausing every extraction');
    deps.metrics?.jobs.inc({ queue: 'extractions', outcome: error.reason === 'quota-exceeded' ? 'quota-exceeded' : 'rate-limited' });
    await deps.rateLimit(pauseMs);
    return new RateLimitError();
  }
  if (error instanceof ReauthRequiredError) {
    await deps.store.finishExtraction(extractionId, 'failed', 'user must log in again');
    log.warn({ err: error }, 'user must log in again; extraction failed without retries');
    return new UnrecoverableError('user must log in again');
  }
  const reason = describe(error);
  if (error instanceof PermanentError) {
    await deps.store.finishExtraction(extractionId, 'failed', reason);
    log.error({ err: error, rule: error.rule }, 'extraction failed for good');
    return new UnrecoverableError(reason);
  }
  const attempts = job.opts.attempts ?? 1;
  const lastAttempt = job.attemptsMade + 1 >= attempts;
  if (lastAttempt) {
    await deps.store.finishExtraction(extractionId, 'failed', reason).catch((e: unknown) => {
      log.error({ err: e }, 'could not mark the extraction failed; the stale sweep will');
    });
    log.error({ err: error, attempts }, 'extraction failed after its last attempt');
  } else {
    log.warn({ err: error, attempt: job.attemptsMade + 1, attempts }, 'extraction failed; will retry');
  }
  return error instanceof Error ? error : new Error(reason);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
