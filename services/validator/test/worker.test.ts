// The validator's worker against a real Redis: what it publishes, under which job ids, and that a redelivered page
// publishes nothing twice. No database is involved: the validator has none.
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueNames, createLogger, createMetrics, createRedis, type RawPageJob } from '@playledger/common';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { createValidatorWorker, validatePage, type ValidatorWorker } from '../src/index.ts';
import { rawJob, trackItem } from './fixtures.ts';

const NOW = new Date('2026-06-06T00:00:00.000Z');
const logger = createLogger({ name: 'validator-test', level: 'silent' });

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function setUp() {
  const prefix = uniquePrefix('validator');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const metrics = createMetrics('validator');
  const service: ValidatorWorker = createValidatorWorker({ connection, prefix, logger, metrics, clock: () => NOW });
  const validation = new Queue<RawPageJob>(QueueNames.validation, { connection, prefix });
  await service.worker.waitUntilReady();
  cleanup = async () => {
    await service.close();
    await validation.close();
    await connection.quit();
    await dropPrefix(prefix);
  };
  return { service, validation, metrics };
}

async function waitCompleted(queue: Queue, jobId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await (await queue.getJob(jobId))?.getState()) !== 'completed') {
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not complete`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the validator worker', () => {
  it('publishes the load job as load-<extractionId> and each dead letter, once, even when the page comes twice', async () => {
    const { service, validation, metrics } = await setUp();
    const page = rawJob([
      trackItem(1, '2026-06-05T23:00:00Z'),
      trackItem(2, 'soon'),
      trackItem(3, '2026-06-05T22:00:00.000Z'),
    ]);
    await validation.add('page', page, { jobId: 'raw-ext-1' });
    await waitCompleted(validation, 'raw-ext-1');
    await validation.add('page', page, { jobId: 'raw-ext-1-again' }); // a redelivery under another id
    await waitCompleted(validation, 'raw-ext-1-again');

    const loads = await service.loadQueue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
    expect(loads.map((j) => j.id)).toEqual(['load-ext-1']);
    expect(loads[0]!.data).toEqual(validatePage(page, NOW).load);
    expect(loads[0]!.data.plays.map((p) => p.playedAt)).toEqual([
      '2026-06-05T23:00:00.000Z',
      '2026-06-05T22:00:00.000Z',
    ]);

    const deadLetters = await service.deadLetterQueue.getJobs([
      'waiting',
      'delayed',
      'prioritized',
      'active',
      'completed',
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.data).toMatchObject({
      stage: 'validator',
      rule: 'played-at-unparseable',
      field: '/played_at',
      extractionId: 'ext-1',
      userId: 'user-1',
    });
    // the job's options are the shared defaults (bounded retention, attempts and backoff)
    expect(loads[0]!.opts).toMatchObject({ attempts: 8, removeOnComplete: { count: 1_000 } });
    const counted = await metrics.registry.getSingleMetricAsString('playledger_plays_dead_lettered_total');
    expect(counted).toContain('rule="played-at-unparseable"');
  });

  it('fails a job that is not a raw page without retrying it', async () => {
    const { validation } = await setUp();
    await validation.add('page', { extractionId: 'ext-2' } as unknown as RawPageJob, { jobId: 'raw-bad', attempts: 5 });
    const deadline = Date.now() + 20_000;
    let job = await validation.getJob('raw-bad');
    while ((await job?.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error('job did not fail');
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await validation.getJob('raw-bad');
    }
    job = await validation.getJob('raw-bad'); // read again: the object read in the loop may predate the failure
    expect(job?.attemptsMade).toBe(1); // one attempt of five, failed for good
    expect(job?.failedReason).toContain('not a raw page job');
  });
});
