// A loader process killed (SIGKILL) while it holds an active job: another loader takes the job up again once the
// lock expires (WORKER_LOCK_SETTINGS: seconds, not BullMQ's default minute), and the database ends up exact.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueNames, createRedis, defaultJobOptions, type LoadJob } from '@playledger/common';
import type { Store } from '@playledger/store';
import { trackItem } from '../../validator/test/fixtures.ts';
import { validatePage } from '../../validator/src/index.ts';
import type { TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { openStore, startExtraction, waitFor, waitForJob } from './helpers.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const USER_LOCK_CLASS = 718_202; // libs/store/src/postgres/locks.ts: the lock loadBatch takes per user

let db: TestDatabase;
let store: Store;
const prefix = uniquePrefix('killed');
const children: ChildProcess[] = [];

async function startLoader(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['services/loader/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_KIND: 'postgres',
      DATABASE_URL: db.url,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"msg":"ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`loader exited with ${code}`)));
  });
  return child;
}

beforeAll(async () => {
  ({ db, store } = await openStore('killed'));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  await db?.drop();
  await dropPrefix(prefix);
});

describe('a killed loader', () => {
  it('its active job is processed again by another loader and loaded exactly once', async () => {
    const userId = 'user-killed';
    const items = [
      trackItem(1, '2025-09-01T10:00:00.000Z'),
      trackItem(2, '2025-09-01T10:04:00.000Z'),
      trackItem(3, '2025-09-01T10:08:00.000Z'),
    ];
    const raw = await startExtraction(store, 'ext-killed', userId, items, new Date());
    const { load } = validatePage(raw, new Date());

    // hold the user's lock so that the first loader's loadBatch waits inside its transaction
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [USER_LOCK_CLASS, userId]);

    const connection = createRedis(TEST_REDIS_URL, 'producer');
    const queue = new Queue<LoadJob>(QueueNames.load, { connection, prefix, defaultJobOptions });
    try {
      const first = await startLoader();
      await queue.add('load', load, { jobId: 'load-ext-killed' });
      await waitFor('the job active in the first loader', async () =>
        (await queue.getJob('load-ext-killed'))?.processedOn ? true : undefined,
      );
      const exited = once(first, 'exit');
      first.kill('SIGKILL');
      await exited;

      await startLoader();
      await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [USER_LOCK_CLASS, userId]);
      const done = await waitForJob(queue, 'load-ext-killed');
      expect(done.state).toBe('completed');
      const job = await queue.getJob('load-ext-killed');
      expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2); // started twice: the kill shows in its attempts
      expect(await store.countPlays(userId)).toBe(3);
      expect(await store.getExtraction('ext-killed')).toMatchObject({ state: 'done', newPlays: 3, knownPlays: 0 });
    } finally {
      await holder.end();
      await queue.close();
      connection.disconnect();
    }
  });
});
