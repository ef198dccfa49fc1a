// The naive loader, as the original ETL's pandas append did it: every play of a raw page inserted with its own
// INSERT, one row per round trip (autocommit), no catalog, no validation beyond reading the fields. It takes the
// same raw pages from the same kind of queue with the same concurrency, and logs {"msg":"done","at"} once EXPECT
// pages are loaded.
import { Worker } from 'bullmq';
import pg from 'pg';
import { createRedis, type RawPageJob } from '@playledger/common';
import { WORKER_LOCK_SETTINGS } from '@playledger/validator';

const env = process.env;
const prefix = env.QUEUE_PREFIX ?? 'bench';
const expect = Number(env.EXPECT ?? 0);
const concurrency = Number(env.CONCURRENCY ?? 4);
const connection = createRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker', 'bench-naive');
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: concurrency });

interface RawItem {
  played_at?: string;
  track?: { uri?: string; name?: string; artists?: { name?: string }[] };
}

let completed = 0;
const worker = new Worker<RawPageJob>(
  env.FROM_QUEUE ?? 'validation',
  async (job) => {
    for (const raw of job.data.items) {
      const item = raw as RawItem;
      const playedAt = item.played_at ?? null;
      await pool.query(
        `INSERT INTO my_played_tracks (user_id, track_uri, song_name, artist_name, played_at, "timestamp")
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [
          job.data.userId,
          item.track?.uri ?? null,
          item.track?.name ?? null,
          item.track?.artists?.[0]?.name ?? null,
          playedAt,
          playedAt?.slice(0, 10) ?? null,
        ],
      );
    }
  },
  { connection, prefix, concurrency, ...WORKER_LOCK_SETTINGS },
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
    await pool.end();
    await connection.quit();
    process.exit(0);
  })();
});
await worker.waitUntilReady();
console.log(JSON.stringify({ msg: 'ready', port: 0 }));
