// The loader under database failures: transient ones are retried and dead-lettered only when attempts run out,
// permanent ones are dead-lettered at once. Failures are injected by wrapping the real store's loadBatch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoadJob } from '@playledger/common';
import type { Store } from '@playledger/store';
import { trackItem } from '../../validator/test/fixtures.ts';
import { validatePage } from '../../validator/src/index.ts';
import type { TestDatabase } from '../../../test/support/postgres.ts';
import { openStore, startExtraction, startPipeline, waitFor, waitForJob, type Pipeline } from './helpers.ts';

let db: TestDatabase;
let store: Store;
let pipeline: Pipeline | undefined;

beforeAll(async () => {
  ({ db, store } = await openStore('failures'));
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const pgError = (code: string) =>
  Object.assign(new Error(`simulated database error ${code}`), { code, severity: 'FATAL' });

/** The real store, but loadBatch fails with what `failure(call)` returns (undefined = pass through). */
function failingStore(failure: (call: number) => Error | undefined): Store {
  let calls = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'loadBatch') {
        return async (job: LoadJob) => {
          calls += 1;
          const error = failure(calls);
          if (error) throw error;
          return target.loadBatch(job);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function loadJobFor(extractionId: string, userId: string): Promise<LoadJob> {
  const items = [trackItem(1, '2025-08-01T10:00:00.000Z'), trackItem(2, '2025-08-01T10:05:00.000Z')];
  const raw = await startExtraction(store, extractionId, userId, items, new Date());
  return validatePage(raw, new Date()).load;
}

const fast = { attempts: 3, backoff: { type: 'fixed', delay: 50 } };

describe('loader failures', () => {
  it('retries a transient failure and loads once the database answers', async () => {
    pipeline = await startPipeline(
      failingStore((call) =>
        call === 1
          ? pgError('57P01')
          : call === 2
            ? Object.assign(new Error('reset'), { code: 'ECONNRESET' })
            : undefined,
      ),
      'recover',
    );
    const job = await loadJobFor('ext-recover', 'user-recover');
    await pipeline.load.add('load', job, { ...fast, jobId: 'load-ext-recover' });
    const done = await waitForJob(pipeline.load, 'load-ext-recover');
    expect(done).toMatchObject({ state: 'completed', attemptsMade: 3 });
    expect(await store.countPlays('user-recover')).toBe(2);
    expect(await store.getExtraction('ext-recover')).toMatchObject({ state: 'done', newPlays: 2 });
    expect((await store.listDeadLetters({ userId: 'user-recover' }, { limit: 10 })).items).toEqual([]);
  });

  it('dead-letters the batch with the last error once attempts are exhausted, and fails the extraction', async () => {
    // pg reports a dropped connection as a plain Error without a code: it must count as transient
    pipeline = await startPipeline(
      failingStore((call) => (call < 3 ? pgError('40P01') : new Error('Connection terminated unexpectedly'))),
      'exhaust',
    );
    const job = await loadJobFor('ext-exhaust', 'user-exhaust');
    await pipeline.load.add('load', job, { ...fast, jobId: 'load-ext-exhaust' });
    expect(await waitForJob(pipeline.load, 'load-ext-exhaust')).toMatchObject({ state: 'failed', attemptsMade: 3 });

    const [entry, ...others] = await waitFor('the batch dead-lettered', async () => {
      const page = await store.listDeadLetters({ userId: 'user-exhaust' }, { limit: 10 });
      return page.items.length > 0 ? page.items : undefined;
    });
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      stage: 'loader',
      rule: 'load-failed',
      field: null,
      extractionId: 'ext-exhaust',
      message: 'loading the batch failed after 3 attempts: Connection terminated unexpectedly',
      record: job,
    });
    expect(await store.getExtraction('ext-exhaust')).toMatchObject({ state: 'failed' });
    expect(await store.countPlays('user-exhaust')).toBe(0);
  });

  it('dead-letters at once on a permanent failure (no retries)', async () => {
    pipeline = await startPipeline(
      failingStore(() => pgError('23505')),
      'permanent',
    );
    const job = await loadJobFor('ext-permanent', 'user-permanent');
    await pipeline.load.add('load', job, { ...fast, jobId: 'load-ext-permanent' });
    expect(await waitForJob(pipeline.load, 'load-ext-permanent')).toMatchObject({ state: 'failed', attemptsMade: 1 });
    const entries = await waitFor('the batch dead-lettered', async () => {
      const page = await store.listDeadLetters({ userId: 'user-permanent' }, { limit: 10 });
      return page.items.length > 0 ? page.items : undefined;
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ stage: 'loader', rule: 'load-failed' });
    expect(await store.getExtraction('ext-permanent')).toMatchObject({ state: 'failed' });
  });

  it('loads a dead-lettered batch replayed to the loader, and resolves its dead letter', async () => {
    pipeline = await startPipeline(
      failingStore((call) => (call === 1 ? pgError('22P02') : undefined)),
      'replay-load',
    );
    const job = await loadJobFor('ext-replay-load', 'user-replay-load');
    await pipeline.load.add('load', job, { ...fast, jobId: 'load-ext-replay-load' });
    expect(await waitForJob(pipeline.load, 'load-ext-replay-load')).toMatchObject({ state: 'failed' });
    const [entry] = await waitFor('the batch dead-lettered', async () => {
      const page = await store.listDeadLetters({ userId: 'user-replay-load' }, { limit: 10 });
      return page.items.length > 0 ? page.items : undefined;
    });
    expect(await store.getExtraction('ext-replay-load')).toMatchObject({ state: 'failed' });

    // what the api's replay does for the loader stage: the kept batch back on the load queue, naming its dead letter
    await store.markDeadLetterReplayed(entry!.id);
    const replay = { ...(entry!.record as LoadJob), replayOf: entry!.id };
    await pipeline.load.add('load', replay, { ...fast, jobId: `load-ext-replay-load-replay-${entry!.id}` });
    expect(await waitForJob(pipeline.load, `load-ext-replay-load-replay-${entry!.id}`)).toMatchObject({
      state: 'completed',
    });
    expect(await store.getDeadLetter(entry!.id)).toMatchObject({ status: 'resolved' });
    expect(await store.getExtraction('ext-replay-load')).toMatchObject({ state: 'done', newPlays: 2, knownPlays: 0 });
    expect(await store.countPlays('user-replay-load')).toBe(2);
  });
});
