// One hop of the bare BullMQ chain (the transport ceiling): takes each job from FROM_QUEUE and, when TO_QUEUE is
// set, adds the same payload there untouched (no check, no slimming); the last hop does nothing. Same connection
// kind, lock settings, job options and concurrency as the product's workers. The last hop logs {"msg":"done","at"}
// once EXPECT jobs have completed.
import { Queue, Worker } from 'bullmq';
import { createRedis, defaultJobOptions } from '@playledger/common';
import { WORKER_LOCK_SETTINGS } from '@playledger/validator';

const env = process.env;
const from = env.FROM_QUEUE ?? 'bench-a';
const to = env.TO_QUEUE || undefined;
const prefix = env.QUEUE_PREFIX ?? 'bench';
const expect = Number(env.EXPECT ?? 0);
const connection = createRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker', `bench-${from}`);
const next = to ? new Queue(to, { connection, prefix, defaultJobOptions }) : undefined;

let completed = 0;
const worker = new Worker(
  from,
  async (job) => {
    if (next) await next.add(job.name, job.data, { jobId: `${to}-${job.id}` });
  },
  { connection, prefix, concurrency: Number(env.CONCURRENCY ?? 4), ...WORKER_LOCK_SETTINGS },
);
worker.on('completed', () => {
  completed += 1;
  if (completed === expect) console.log(JSON.stringify({ msg: 'done', at: Date.now(), completed }));
});
worker.on('failed', (job, error) =>
  console.log(JSON.stringify({ msg: 'failed', jobId: job?.id, error: error.message })),
);

process.once('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await next?.close();
    await connection.quit();
    process.exit(0);
  })();
});
await worker.waitUntilReady();
console.log(JSON.stringify({ msg: 'ready', port: 0 }));
