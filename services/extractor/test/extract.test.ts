// The extraction processor with its I/O replaced by small in-memory fakes (no library is mocked).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RateLimitError, UnrecoverableError } from 'bullmq';
import {
  PermanentError,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
  createLogger,
  type RawPageJob,
} from '@playledger/common';
import type { ExtractionState, PlayKey } from '@playledger/store';
import { PAGES_DIR } from '../../../test/support/shared.ts';
import { processExtraction, type ExtractionJob, type ExtractorDeps, type RecentlyPlayedPage } from '../src/extract.ts';

const fullPage = JSON.parse(readFileSync(path.join(PAGES_DIR, 'before-full.json'), 'utf8')) as RecentlyPlayedPage;

class TokenRejected extends TransientError {}

function harness(
  options: { pages?: (() => RecentlyPlayedPage)[]; known?: (keys: PlayKey[]) => number; state?: ExtractionState } = {},
) {
  const calls: string[] = [];
  const finished: { id: string; state: string; reason: string | null }[] = [];
  const published: { page: RawPageJob; jobId: string }[] = [];
  const pauses: number[] = [];
  const fetched: unknown[] = [];
  const tokens: (string | undefined)[] = [];
  const pages = [...(options.pages ?? [() => fullPage])];
  const deps: ExtractorDeps = {
    store: {
      startExtraction: (e) => {
        calls.push(`start ${e.id}`);
        return Promise.resolve({ ...e, state: options.state ?? 'pending' } as never);
      },
      countUnknownPlays: (_userId, keys) => Promise.resolve(keys.length - (options.known?.(keys) ?? 0)),
      finishExtraction: (id, state, reason) => {
        finished.push({ id, state, reason });
        return Promise.resolve();
      },
      markExtractionFetched: (_id, page) => {
        fetched.push(page);
        return Promise.resolve();
      },
    },
    getAccessToken: (_userId, rejected) => {
      tokens.push(rejected);
      return Promise.resolve(rejected ? 'fresh-token' : 'first-token');
    },
    getRecentlyPlayed: () => {
      const next = pages.shift();
      if (!next) throw new Error('no more pages');
      return Promise.resolve(next());
    },
    isTokenRejected: (e) => e instanceof TokenRejected,
    rawPageExists: () => Promise.resolve(false),
    publishRawPage: (page, jobId) => {
      published.push({ page, jobId });
      return Promise.resolve();
    },
    rateLimit: (ms) => {
      pauses.push(ms);
      return Promise.resolve();
    },
    quotaPauseMs: 900_000,
    now: () => new Date('2026-01-01T00:00:00Z'),
    logger: createLogger({ name: 'test', level: 'silent' }),
  };
  return { deps, calls, finished, published, pauses, fetched, tokens };
}

const job = (over: Partial<ExtractionJob> = {}): ExtractionJob => ({
  id: 'repeat-user-1-1767225600000',
  data: { userId: 'u1', trigger: 'scheduled' },
  attemptsMade: 0,
  opts: { attempts: 3 },
  ...over,
});

describe('processExtraction', () => {
  it('publishes the page once under raw-<extractionId>, without available_markets', async () => {
    const h = harness();
    const out = await processExtraction(job(), h.deps);
    expect(out).toMatchObject({ outcome: 'published', fetched: 50, unknown: 50 });
    expect(h.published).toHaveLength(1);
    const [{ page, jobId }] = h.published as [{ page: RawPageJob; jobId: string }];
    expect(jobId).toBe(`raw-${out.extractionId}`);
    expect(page).toMatchObject({ userId: 'u1', limit: 50, extractionId: out.extractionId });
    expect(JSON.stringify(page.items)).not.toContain('available_markets');
    expect(JSON.stringify(page.items)).toContain('"isrc"');
    expect(h.fetched[0]).toMatchObject({ fetched: 50, full: true });
  });

  it('does nothing for an extraction delivered again after its page went on', async () => {
    for (const state of ['done', 'no_new_plays', 'failed', 'loading'] as const) {
      const h = harness({ state });
      await expect(processExtraction(job(), h.deps)).resolves.toMatchObject({ outcome: 'already-handled', state });
      expect(h.published).toHaveLength(0);
      expect(h.finished).toHaveLength(0);
      expect(h.tokens).toHaveLength(0);
    }
    const stopped = harness({ state: 'validating' });
    await expect(processExtraction(job(), stopped.deps)).resolves.toMatchObject({ outcome: 'published' });
    const published = harness({ state: 'validating' });
    published.deps.rawPageExists = () => Promise.resolve(true);
    await expect(processExtraction(job(), published.deps)).resolves.toMatchObject({ outcome: 'already-handled' });
  });

  it('ends as no_new_plays when everything is known, publishing nothing', async () => {
    const h = harness({ known: (keys) => keys.length });
    const out = await processExtraction(job({ data: { userId: 'u1', trigger: 'manual', extractionId: 'ext-1' } }), h.deps);
    expect(out).toEqual({ extractionId: 'ext-1', outcome: 'no_new_plays', fetched: 50 });
    expect(h.finished).toEqual([{ id: 'ext-1', state: 'no_new_plays', reason: null }]);
    expect(h.published).toHaveLength(0);
  });

  it('publishes a page whose only unknown record has no key, so the validator can dead-letter it', async () => {
    const poisoned = structuredClone(fullPage);
    (poisoned.items[0] as { played_at?: string }).played_at = 'yesterday';
    const h = harness({ pages: [() => poisoned], known: (keys) => keys.length });
    await expect(processExtraction(job(), h.deps)).resolves.toMatchObject({ outcome: 'published', unknown: 1 });
  });

  it('after a 401 asks auth for a forced refresh naming the rejected token, and retries once', async () => {
    const h = harness({
      pages: [
        () => {
          throw new TokenRejected('401');
        },
        () => fullPage,
      ],
    });
    await processExtraction(job(), h.deps);
    expect(h.tokens).toEqual([undefined, 'first-token']);
    expect(h.published).toHaveLength(1);
  });

  it('pauses the whole queue on a rate limit, without charging an attempt or finishing the record', async () => {
    const h = harness({
      pages: [
        () => {
          throw new RateLimitedError(new Date('2026-01-01T00:00:30Z'), 'rate-limit', '429');
        },
      ],
    });
    await expect(processExtraction(job(), h.deps)).rejects.toBeInstanceOf(RateLimitError);
    expect(h.pauses).toEqual([30_000]);
    expect(h.finished).toEqual([]);
  });

  it('pauses for SPOTIFY_QUOTA_PAUSE_MS on QUOTA_EXCEEDED without a wait', async () => {
    const h = harness({
      pages: [
        () => {
          throw new RateLimitedError(new Date('2026-01-01T00:00:00Z'), 'quota-exceeded', '429');
        },
      ],
    });
    await expect(processExtraction(job(), h.deps)).rejects.toBeInstanceOf(RateLimitError);
    expect(h.pauses).toEqual([900_000]);
  });

  it('ends a user who must log in again without retries, and fails the record', async () => {
    const h = harness();
    h.deps.getAccessToken = () => Promise.reject(new ReauthRequiredError('u1', 'invalid_grant'));
    await expect(processExtraction(job(), h.deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(h.finished).toEqual([expect.objectContaining({ state: 'failed', reason: 'user must log in again' })]);
  });

  it('fails a permanent error at once', async () => {
    const h = harness({
      pages: [
        () => {
          throw new PermanentError('spotify-forbidden', '403');
        },
      ],
    });
    await expect(processExtraction(job(), h.deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(h.finished).toHaveLength(1);
  });

  it('lets transient errors retry, and fails the record on the last attempt only', async () => {
    const failing = () => {
      throw new TransientError('Spotify 503');
    };
    const first = harness({ pages: [failing] });
    await expect(processExtraction(job({ attemptsMade: 0 }), first.deps)).rejects.toBeInstanceOf(TransientError);
    expect(first.finished).toEqual([]);
    const last = harness({ pages: [failing] });
    await expect(processExtraction(job({ attemptsMade: 2 }), last.deps)).rejects.toBeInstanceOf(TransientError);
    expect(last.finished).toEqual([expect.objectContaining({ state: 'failed', reason: 'TransientError: Spotify 503' })]);
  });
});
