// A worker of each kind killed with SIGKILL while it holds an active job, then started again. The job is processed
// again (its stalled counter or attempts show it: the lock of the dead worker expired and a live replica took the job
// up), and the database equals the ledger, play by play.
//
// How each worker is caught holding its job (the test makes sure the job is active before the kill):
// - extractor and validator: each replica reaches Redis through its own small TCP proxy (test/support/faults/
//   redis-proxy.ts). The proxy is armed with the id of the job the worker will publish next (`raw-<extraction>` for
//   the extractor, `load-<extraction>` for the validator); when the worker sends it, the proxy stops forwarding that
//   connection before Redis sees the command. The worker is then in the middle of its job (the extractor has read
//   Spotify and marked the extraction fetched; the validator has validated the page) and waits for Redis forever.
//   Which replica froze is known from its proxy; that one is killed.
// - loader: the test holds LOCK TABLE plays IN EXCLUSIVE MODE in an open transaction; the loader's loadBatch waits on
//   it inside its own transaction. pg_stat_activity gives the waiting backend's client port, `ss` the pid that owns
//   that socket: that loader is killed, then the test's lock is released.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_LOCK_SETTINGS } from '@playledger/common';
import { reportWallTime, startFaultStack } from '../support/faults/fault-stack.ts';
import { jobCounters } from '../support/pipeline-jobs.ts';
import { startRedisProxy, type FrozenConnection, type RedisProxy } from '../support/faults/redis-proxy.ts';
import { pidOwningLocalPort } from '../support/faults/sockets.ts';
import { TEST_REDIS_URL } from '../support/redis.ts';
import { type Stack, type WorkerService, waitUntil } from '../support/stack.ts';

const USERS = ['kill-1', 'kill-2', 'kill-3'];

describe('a worker of each kind killed while it holds an active job', () => {
  let stack: Stack;
  const proxies = new Map<string, RedisProxy>();
  const started = Date.now();

  beforeAll(async () => {
    for (const service of ['extractor', 'validator'] as const) {
      for (const i of [0, 1]) proxies.set(`${service}-${i}`, await startRedisProxy(`${service}-${i}`, TEST_REDIS_URL));
    }
    stack = await startFaultStack({
      label: 'killed',
      workerRedisUrl: (service, i) => proxies.get(`${service}-${i}`)?.url,
    });
    await stack.addUsers(USERS, 24);
    const first = await stack.extract(USERS);
    expect(first.map((e) => e.state)).toEqual(USERS.map(() => 'done'));
  });
  afterAll(async () => {
    await stack?.stop();
    for (const p of proxies.values()) await p.close();
    reportWallTime('killed workers (all three)', started);
  });

  /** Arms the proxies of both replicas of `service`; resolves with the one that froze (the others disarmed). */
  async function freezeOnPublish(
    service: WorkerService,
    needle: string,
  ): Promise<{ index: number; frozen: FrozenConnection }> {
    const mine = [0, 1].map((i) => proxies.get(`${service}-${i}`) as RedisProxy);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${service} sent ${needle} within 60 s`)), 60_000);
    });
    try {
      const frozen = await Promise.race([...mine.map((p) => p.arm(needle)), timeout]);
      return { index: mine.findIndex((p) => p.name === frozen.proxy), frozen };
    } finally {
      clearTimeout(timer);
      for (const p of mine) p.disarm();
    }
  }

  /** The time left on the lock the worker holds on that job (ms), read while the worker is frozen. */
  async function lockTtl(queue: string, jobId: string): Promise<number> {
    return stack.redis.pttl(`${stack.prefix}:${queue}:${jobId}:lock`);
  }

  /** After the kill: the job went back to waiting and ran again to completion; the extraction is done. */
  async function expectProcessedAgain(
    extractionId: string,
    queue: 'extractions' | 'validation' | 'load',
    jobId: string,
  ) {
    // the job ends (completed, or failed: a stalled job given up fails at once) before the extraction can
    const state = await waitUntil(
      async () => {
        const s = await stack.queues[queue].getJobState(jobId);
        return s === 'completed' || s === 'failed' ? s : null;
      },
      180_000,
      `${queue} job ${jobId} finished`,
    );
    const finished = await stack.queues[queue].getJob(jobId);
    expect(state, finished?.failedReason).toBe('completed');
    const [extraction] = await stack.waitForFinal([extractionId], 180_000);
    expect(extraction?.state, extraction?.reason ?? '').toBe('done');
    const job = await stack.queues[queue].getJob(jobId);
    expect(job, `${queue} job ${jobId}`).toBeDefined();
    const counters = jobCounters(job as NonNullable<typeof job>);
    expect(await job?.getState()).toBe('completed');
    // the dead worker's lock expired and the job was moved back to waiting (stalledCounter), or it was retried
    // (attemptsMade counts the completion too in BullMQ 6, so > 1 means a charged retry)
    expect(counters.stalledCounter > 0 || counters.attemptsMade > 1, JSON.stringify(counters)).toBe(true);
    return counters;
  }

  it('the extractor: killed between reading Spotify and publishing the page', async () => {
    const t0 = Date.now();
    await stack.control.advance(30 * 60_000);
    const target = stack.newExtractionId();
    const freeze = freezeOnPublish('extractor', `raw-${target}`);
    await stack.requestExtraction(USERS[0] as string, target);
    const others = await stack.requestAll(USERS.slice(1));
    const { index } = await freeze;
    expect(await stack.queues.extractions.getJobState(target)).toBe('active');
    expect((await stack.store.getExtraction(target))?.state).toBe('validating');
    const ttl = await lockTtl('extractions', target);
    await stack.killWorker('extractor', index);
    const killedAt = Date.now();
    await stack.restartWorker('extractor', index);
    const counters = await expectProcessedAgain(target, 'extractions', target);
    console.log(
      `extractor-${index + 1} killed; job taken up again and done ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; ${JSON.stringify(counters)}`,
    );
    expect((await stack.waitForFinal(others)).map((e) => e.state)).toEqual(others.map(() => 'done'));
    await stack.expectExact(USERS);
    reportWallTime('killed extractor', t0);
    // "resolves in seconds": the extractor holds its jobs under the pipeline's shared lock settings
    // (WORKER_LOCK_SETTINGS, lockDuration 6 s), not BullMQ's default 30 s lock and 30 s stall check
    expect(ttl, `lock TTL of the extractor's active job (ms)`).toBeGreaterThan(0);
    expect(ttl, `lock TTL of the extractor's active job (ms)`).toBeLessThanOrEqual(WORKER_LOCK_SETTINGS.lockDuration);
  });

  it('the validator: killed while publishing the load job', async () => {
    const t0 = Date.now();
    await stack.control.advance(30 * 60_000);
    const target = stack.newExtractionId();
    const freeze = freezeOnPublish('validator', `load-${target}`);
    await stack.requestExtraction(USERS[1] as string, target);
    const others = await stack.requestAll([USERS[0] as string, USERS[2] as string]);
    const { index } = await freeze;
    expect(await stack.queues.validation.getJobState(`raw-${target}`)).toBe('active');
    const ttl = await lockTtl('validation', `raw-${target}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WORKER_LOCK_SETTINGS.lockDuration);
    await stack.killWorker('validator', index);
    const killedAt = Date.now();
    await stack.restartWorker('validator', index);
    const counters = await expectProcessedAgain(target, 'validation', `raw-${target}`);
    console.log(
      `validator-${index + 1} killed; job taken up again and done ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; ${JSON.stringify(counters)}`,
    );
    expect((await stack.waitForFinal(others)).map((e) => e.state)).toEqual(others.map(() => 'done'));
    await stack.expectExact(USERS);
    reportWallTime('killed validator', t0);
  });

  it('the loader: killed while its loadBatch waits on a lock the test holds', async () => {
    const t0 = Date.now();
    await stack.control.advance(30 * 60_000);
    const holder = new pg.Client({ connectionString: stack.env.DATABASE_URL });
    await holder.connect();
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE plays IN EXCLUSIVE MODE');
      const target = await stack.requestExtraction(USERS[2] as string);
      const waiting = await waitUntil(
        async () => {
          const { rows } = await holder.query<{ client_port: number }>(
            `SELECT client_port FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          );
          return rows[0] ?? null;
        },
        60_000,
        'a loader waiting on the plays lock',
      );
      expect(await stack.queues.load.getJobState(`load-${target}`)).toBe('active');
      const ttl = await lockTtl('load', `load-${target}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(WORKER_LOCK_SETTINGS.lockDuration);
      const pid = await pidOwningLocalPort(waiting.client_port);
      const replica = pid === null ? null : stack.replicaOfPid(pid);
      expect(replica?.service, `the process on port ${waiting.client_port} (pid ${pid})`).toBe('loader');
      const index = replica?.index ?? -1;
      await stack.killWorker('loader', index);
      const killedAt = Date.now();
      await holder.query('ROLLBACK');
      released = true;
      await stack.restartWorker('loader', index);
      const counters = await expectProcessedAgain(target, 'load', `load-${target}`);
      console.log(
        `loader-${index + 1} killed; job taken up again and done ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; ${JSON.stringify(counters)}`,
      );
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    // one more round after the kills: every user exact, nothing failed, nothing dead-lettered
    await stack.control.advance(30 * 60_000);
    expect((await stack.extract(USERS)).map((e) => e.state)).toEqual(USERS.map(() => 'done'));
    const total = await stack.expectExact(USERS);
    const { failedJobs, deadLetterJobs } = await stack.failuresAndDeadLetters();
    expect(failedJobs).toEqual({ extractions: 0, validation: 0, load: 0, 'dead-letters': 0 });
    expect(deadLetterJobs).toBe(0);
    console.log(`killed workers: ${total} plays equal the ledger`);
    reportWallTime('killed loader', t0);
  });
});
