// Where the pipeline's time goes (a diagnostic beside `npm run bench`, not part of it): the validator's pure work
// per page, and store.loadBatch per page at concurrency 1 and BENCH_CONCURRENCY, in this process, on a fresh database.
// `node bench/profile.ts` (BENCH_PAGES, BENCH_SIM_USERS, BENCH_CONCURRENCY as for the benchmark).
import pg from 'pg';
import { createLogger, type LoadJob } from '@playledger/common';
import { createStore } from '@playledger/store';
import { validatePage } from '@playledger/validator';
import { createTestDatabase } from '../test/support/postgres.ts';
import { startProcess } from './lib/proc.ts';
import { simAccessToken, simRecentlyPlayed, slimItem } from './lib/sim.ts';

const pages = Number(process.env.BENCH_PAGES ?? 200);
const simUsers = Number(process.env.BENCH_SIM_USERS ?? 20);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
const logger = createLogger({ name: 'bench-profile', level: 'warn' });

const sim = await startProcess('sim', 'tools/spotify-sim/src/main.ts', { SIM_PORT: '0', SIM_USERS: String(simUsers) });
const simUrl = `http://127.0.0.1:${sim.port}`;
const base: unknown[][] = [];
try {
  for (let i = 0; i < simUsers; i += 1)
    base.push((await simRecentlyPlayed(simUrl, await simAccessToken(simUrl))).map(slimItem));
} finally {
  await sim.stop();
}

function jobs(tag: string): LoadJob[] {
  const now = new Date();
  return Array.from(
    { length: pages },
    (_, i) =>
      validatePage(
        {
          extractionId: `p-${tag}-${i}`,
          userId: `p-${tag}-u${i}`,
          fetchedAt: now.toISOString(),
          items: base[i % base.length] ?? [],
          limit: 50,
        },
        now,
      ).load,
  );
}

const raw = JSON.stringify({ items: base[0] });
const warm = jobs('warm');
let t = performance.now();
for (let k = 0; k < 3; k += 1) jobs(`v${k}`);
const validateMs = (performance.now() - t) / (3 * pages);
t = performance.now();
for (let k = 0; k < 200; k += 1) JSON.parse(raw);
const parseMs = (performance.now() - t) / 200;
console.log(
  `validator (pure): ${validateMs.toFixed(2)} ms per page; JSON.parse of a raw page (${Math.round(raw.length / 1024)} KiB): ${parseMs.toFixed(2)} ms; load job ${Math.round(JSON.stringify(warm[0]).length / 1024)} KiB`,
);

// time every statement by its first words (pg's Client.query, wrapped for this process only)
const statementMs = new Map<string, { n: number; ms: number }>();
let timing = false;
const prototype = pg.Client.prototype as unknown as { query: (this: pg.Client, ...args: unknown[]) => unknown };
const original = prototype.query;
prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const result = original.apply(this, args);
  const text = typeof args[0] === 'string' ? args[0] : '';
  if (!timing || !(result instanceof Promise) || text.includes('pg_stat_activity')) return result;
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
  const s = performance.now();
  return result.finally(() => {
    const e = statementMs.get(key) ?? { n: 0, ms: 0 };
    e.n += 1;
    e.ms += performance.now() - s;
    statementMs.set(key, e);
  });
};

for (const c of [1, concurrency]) {
  timing = c === 1;
  const db = await createTestDatabase('bench_profile');
  const store = await createStore({ kind: 'postgres', url: db.url, logger });
  try {
    await store.migrate();
    const batch = jobs(`c${c}`);
    let next = 0;
    const perCall: number[] = [];
    // what the loading sessions wait on, sampled every 5 ms from pg_stat_activity
    const waits = new Map<string, number>();
    const sampler = new pg.Client({ connectionString: db.url });
    await sampler.connect();
    let sampling = true;
    const sampled = (async () => {
      while (sampling) {
        const r = await sampler.query<{ w: string }>(
          `SELECT coalesce(wait_event_type || ':' || wait_event, state)
             || CASE WHEN wait_event_type = 'Lock' THEN ' in ' || substr(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 1, 24) ELSE '' END AS w
           FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`,
        );
        for (const row of r.rows) waits.set(row.w, (waits.get(row.w) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    t = performance.now();
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (next < batch.length) {
          const job = batch[next++] as LoadJob;
          const s = performance.now();
          await store.getExtraction(job.extractionId);
          await store.loadBatch(job);
          perCall.push(performance.now() - s);
        }
      }),
    );
    const total = (performance.now() - t) / 1000;
    sampling = false;
    await sampled;
    await sampler.end();
    const all = [...waits.values()].reduce((a, b) => a + b, 0);
    console.log(
      `  busy sessions by wait (share of samples): ${[...waits]
        .sort((a, b) => b[1] - a[1])
        .map(([w, n]) => `${w} ${Math.round((100 * n) / all)}%`)
        .join(', ')}`,
    );
    perCall.sort((a, b) => a - b);
    console.log(
      `loadBatch concurrency ${c}: ${(pages / total).toFixed(1)} pages/s; per page median ${perCall[Math.floor(perCall.length / 2)]?.toFixed(1)} ms, p90 ${perCall[Math.floor(perCall.length * 0.9)]?.toFixed(1)} ms`,
    );
  } finally {
    await store.close();
    await db.drop();
  }
  if (c === 1) {
    timing = false;
    const rows = [...statementMs].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    for (const [key, v] of rows) console.log(`  ${(v.ms / pages).toFixed(2).padStart(7)} ms/page  x${v.n}  ${key}`);
  }
}
