// `npm run bench`: the pipeline's speed beside the references that bound it (issue 7, part 2).
//
// Every side starts from the same point: the same raw pages (built from the simulator's real recently-played answers,
// slimmed as the extractor slims them) already enqueued on a paused queue, the workers started and ready, then the
// queue resumed and the clock started. Sides run interleaved, the order rotated each round; each round gets a fresh
// PostgreSQL database and a fresh Redis prefix, so no side inherits another's rows, keys or caches.
//   pipeline   the real validator and loader services as child processes (their main.ts, default settings apart from
//              the ports): raw pages on `validation` -> validator -> `load` -> loader -> PostgreSQL (store.loadBatch);
//              done when every extraction record is `done`.
//   extractor  the real extractor service as a child process against the simulator: extraction requests on
//              `extractions` -> token (a stand-in for auth's POST /internal/token serving real simulator tokens) ->
//              GET recently-played -> store -> raw page on `validation`; done when every request completed.
//   bare3      the transport ceiling: the same raw pages through queue A -> B -> C, no-op processors that forward the
//              payload untouched, one process per hop (as one per service), same lock settings and concurrency.
//   bare2      the same with two queues (A -> B), the shape of validation -> load.
//   naive      one INSERT per play per round trip (autocommit), as the original ETL's append, fed by the same queue.
//   copy       PostgreSQL COPY FROM STDIN of the same normalized plays into the product's plays table (one stream).
// Sizes: BENCH_PAGES (400), BENCH_ROUNDS (5), BENCH_CONCURRENCY (4), BENCH_EXTRACTIONS (200), BENCH_SIM_USERS (20),
// BENCH_SIDES (comma list of the sides above). Results: bench/results/latest.json and bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  QueueNames,
  createLogger,
  defaultJobOptions,
  type ExtractionRequest,
  type NormalizedPlay,
  type RawPageJob,
} from '@playledger/common';
import { createStore } from '@playledger/store';
import { validatePage } from '@playledger/validator';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.ts';
import { dropPrefix } from '../test/support/redis.ts';
import { copyFromText, copyValue } from './lib/copy.ts';
import { startCpuMeter } from './lib/cpu.ts';
import { REPO_ROOT, startProcess, type BenchProcess } from './lib/proc.ts';
import { simAccessToken, simRecentlyPlayed, slimItem } from './lib/sim.ts';

const SIDES = ['pipeline', 'extractor', 'bare3', 'bare2', 'naive', 'copy'] as const;
type Side = (typeof SIDES)[number];

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const config = {
  pages: intEnv('BENCH_PAGES', 1_000, 1, 20_000),
  rounds: intEnv('BENCH_ROUNDS', 5, 1, 50),
  concurrency: intEnv('BENCH_CONCURRENCY', 4, 1, 64),
  // the extractor's completions are counted on its queue, which keeps the last 1000 completed jobs
  extractions: intEnv('BENCH_EXTRACTIONS', 200, 1, 1_000),
  simUsers: intEnv('BENCH_SIM_USERS', 20, 1, 500),
  sides: (process.env.BENCH_SIDES ?? SIDES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is Side => {
      if (!(SIDES as readonly string[]).includes(s)) throw new Error(`BENCH_SIDES: unknown side ${s}`);
      return true;
    }),
  redisUrl: process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  timeoutMs: intEnv('BENCH_SIDE_TIMEOUT_MS', 180_000, 1_000, 3_600_000),
};

interface RunResult {
  round: number;
  seconds: number;
  pages: number;
  /** plays the side wrote (pipeline, naive, copy) or carried (bare: the plays on its pages) */
  plays: number;
  rssMiB: Record<string, number | null>;
  /** CPU ms while the clock ran: the side's processes, 'postgres', 'redis' and 'bench' (this process) */
  cpuMs: Record<string, number>;
  notes?: Record<string, number>;
}

const logger = createLogger({ name: 'bench', level: 'warn' });
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function newPrefix(): string {
  return `plbench-${randomBytes(4).toString('hex')}`;
}

/** The raw pages of one side in one round: page i is simulator page i % K under a user of its own. */
function rawPages(base: unknown[][], tag: string, count: number, fetchedAt: string): RawPageJob[] {
  return Array.from({ length: count }, (_, i) => ({
    extractionId: `bench-${tag}-${i}`,
    userId: `bench-${tag}-u${i}`,
    fetchedAt,
    items: base[i % base.length] ?? [],
    limit: 50,
  }));
}

/** Adds the pages to a paused queue: workers started afterwards wait until `resume`. */
async function enqueuePaused<T>(queue: Queue<T>, jobs: { name: string; data: T; jobId: string }[]): Promise<void> {
  await queue.pause();
  for (let i = 0; i < jobs.length; i += 500) {
    await queue.addBulk(
      jobs.slice(i, i + 500).map((j) => ({ name: j.name, data: j.data, opts: { jobId: j.jobId } })) as never,
    );
  }
}

async function migratedDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  const store = await createStore({ kind: 'postgres', url: db.url, logger });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  return db;
}

async function pollUntil(what: string, probe: () => Promise<boolean>, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + config.timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${config.timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

async function count(client: pg.Client, sql: string): Promise<number> {
  const r = await client.query<{ n: string }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

function serviceEnv(prefix: string, extra: Record<string, string>): Record<string, string> {
  return { REDIS_URL: config.redisUrl, QUEUE_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', ...extra };
}

async function stopAll(processes: BenchProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

function rssOf(processes: BenchProcess[]): Record<string, number | null> {
  return Object.fromEntries(processes.map((p) => [p.name, p.peakRssMiB()]));
}

interface Context {
  base: unknown[][];
  simUrl: string;
  authUrl: string;
  /** normalized plays per distinct base page (what the validator passes), for COPY and the expected counts */
  playsPerBase: number[];
  basePlays: NormalizedPlay[][];
}

function expectedPlays(ctx: Context, pages: number): number {
  let n = 0;
  for (let i = 0; i < pages; i += 1) n += ctx.playsPerBase[i % ctx.playsPerBase.length] ?? 0;
  return n;
}

async function runPipeline(ctx: Context, round: number): Promise<RunResult> {
  const db = await migratedDatabase('bench_pipeline');
  const prefix = newPrefix();
  const queue = new Queue<RawPageJob>(QueueNames.validation, { connection: redis, prefix, defaultJobOptions });
  const client = new pg.Client({ connectionString: db.url });
  const processes: BenchProcess[] = [];
  try {
    await client.connect();
    const pages = rawPages(ctx.base, `p${round}`, config.pages, new Date().toISOString());
    await enqueuePaused(
      queue,
      pages.map((p) => ({ name: 'raw-page', data: p, jobId: `raw-${p.extractionId}` })),
    );
    const c = String(config.concurrency);
    processes.push(
      ...(await Promise.all([
        startProcess('validator', 'services/validator/src/main.ts', serviceEnv(prefix, { VALIDATOR_CONCURRENCY: c })),
        startProcess(
          'loader',
          'services/loader/src/main.ts',
          serviceEnv(prefix, { STORE_KIND: 'postgres', DATABASE_URL: db.url, LOADER_CONCURRENCY: c }),
        ),
      ])),
    );
    // done when the loader has logged every batch, as the bare chain's last hop logs its last job; the database is
    // checked afterwards (polling it while the clock runs would charge the pipeline for the measuring)
    const loader = processes[1] as BenchProcess;
    const loaded = loader.waitForCount('batch loaded', config.pages, config.timeoutMs);
    const meter = startCpuMeter(processes.map((p) => ({ name: p.name, pid: p.child.pid })));
    const t0 = performance.now();
    await queue.resume();
    await loaded;
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = meter.stop();
    const rssMiB = rssOf(processes);
    const done = await count(client, `SELECT count(*) AS n FROM extractions WHERE state = 'done'`);
    if (done !== config.pages) throw new Error(`pipeline: ${done} of ${config.pages} extractions done`);
    const plays = await count(client, 'SELECT count(*) AS n FROM plays');
    const deadLetters = await count(client, 'SELECT count(*) AS n FROM dead_letters');
    const expected = expectedPlays(ctx, config.pages);
    if (plays !== expected)
      log(`pipeline round ${round + 1}: ${plays} plays stored, ${expected} expected from the validator`);
    return {
      round,
      seconds,
      pages: config.pages,
      plays,
      rssMiB,
      cpuMs,
      notes: { expectedPlays: expected, deadLetters },
    };
  } finally {
    await stopAll(processes);
    await queue.close();
    await client.end().catch(() => undefined);
    await db.drop();
    await dropPrefix(prefix, config.redisUrl);
  }
}

async function runExtractor(ctx: Context, round: number): Promise<RunResult> {
  const db = await migratedDatabase('bench_extractor');
  const prefix = newPrefix();
  const extractions = new Queue<ExtractionRequest>(QueueNames.extractions, {
    connection: redis,
    prefix,
    defaultJobOptions,
  });
  const validation = new Queue<RawPageJob>(QueueNames.validation, { connection: redis, prefix });
  const processes: BenchProcess[] = [];
  try {
    const n = config.extractions;
    await enqueuePaused(
      extractions,
      Array.from({ length: n }, (_, i) => {
        const extractionId = `bench-x${round}-${i}`;
        return {
          name: 'manual-extraction',
          data: { userId: `bench-x${round}-u${i}`, trigger: 'manual' as const, extractionId },
          jobId: extractionId,
        };
      }),
    );
    processes.push(
      await startProcess(
        'extractor',
        'services/extractor/src/main.ts',
        serviceEnv(prefix, {
          STORE_KIND: 'postgres',
          DATABASE_URL: db.url,
          SPOTIFY_API_URL: ctx.simUrl,
          AUTH_URL: ctx.authUrl,
          AUTH_SERVICE_SECRET: AUTH_SECRET,
          EXTRACTOR_CONCURRENCY: String(config.concurrency),
          EXTRACTION_INTERVAL_MS: String(24 * 3600_000),
        }),
      ),
    );
    const meter = startCpuMeter(processes.map((p) => ({ name: p.name, pid: p.child.pid })));
    const t0 = performance.now();
    await extractions.resume();
    await pollUntil('extractor', async () => {
      const c = await extractions.getJobCounts('completed', 'failed');
      return (c.completed ?? 0) + (c.failed ?? 0) >= n;
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = meter.stop();
    const rssMiB = rssOf(processes);
    const failed = (await extractions.getJobCounts('failed')).failed ?? 0;
    const published = await validation.getWaitingCount();
    return {
      round,
      seconds,
      pages: published,
      plays: expectedPlays(ctx, published),
      rssMiB,
      cpuMs,
      notes: { requested: n, failed },
    };
  } finally {
    await stopAll(processes);
    await extractions.close();
    await validation.close();
    await db.drop();
    await dropPrefix(prefix, config.redisUrl);
  }
}

async function runBare(ctx: Context, round: number, hops: 2 | 3): Promise<RunResult> {
  const prefix = newPrefix();
  const names = ['bench-a', 'bench-b', 'bench-c'].slice(0, hops);
  const first = new Queue<RawPageJob>(names[0] ?? 'bench-a', { connection: redis, prefix, defaultJobOptions });
  const processes: BenchProcess[] = [];
  try {
    const pages = rawPages(ctx.base, `b${hops}${round}`, config.pages, new Date().toISOString());
    await enqueuePaused(
      first,
      pages.map((p) => ({ name: 'raw-page', data: p, jobId: `raw-${p.extractionId}` })),
    );
    processes.push(
      ...(await Promise.all(
        names.map((from, i) =>
          startProcess(`hop-${from.slice(-1)}`, 'bench/bare-chain.ts', {
            REDIS_URL: config.redisUrl,
            QUEUE_PREFIX: prefix,
            FROM_QUEUE: from,
            TO_QUEUE: names[i + 1] ?? '',
            CONCURRENCY: String(config.concurrency),
            EXPECT: String(config.pages),
          }),
        ),
      )),
    );
    const last = processes[processes.length - 1] as BenchProcess;
    const done = last.waitFor('done', config.timeoutMs);
    const meter = startCpuMeter(processes.map((p) => ({ name: p.name, pid: p.child.pid })));
    const t0 = Date.now();
    await first.resume();
    const at = Number((await done).at);
    const seconds = (at - t0) / 1000;
    const cpuMs = meter.stop();
    const plays = expectedPlays(ctx, config.pages);
    return { round, seconds, pages: config.pages, plays, rssMiB: rssOf(processes), cpuMs };
  } finally {
    await stopAll(processes);
    await first.close();
    await dropPrefix(prefix, config.redisUrl);
  }
}

async function runNaive(ctx: Context, round: number): Promise<RunResult> {
  const db = await createTestDatabase('bench_naive');
  const prefix = newPrefix();
  const queue = new Queue<RawPageJob>(QueueNames.validation, { connection: redis, prefix, defaultJobOptions });
  const client = new pg.Client({ connectionString: db.url });
  const processes: BenchProcess[] = [];
  try {
    await client.connect();
    await client.query(`CREATE TABLE my_played_tracks (
      user_id text NOT NULL, track_uri text NOT NULL, song_name text, artist_name text,
      played_at timestamptz(3) NOT NULL, "timestamp" date,
      PRIMARY KEY (user_id, track_uri, played_at))`);
    const pages = rawPages(ctx.base, `n${round}`, config.pages, new Date().toISOString());
    await enqueuePaused(
      queue,
      pages.map((p) => ({ name: 'raw-page', data: p, jobId: `raw-${p.extractionId}` })),
    );
    const naive = await startProcess('naive-loader', 'bench/naive-loader.ts', {
      REDIS_URL: config.redisUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: db.url,
      FROM_QUEUE: QueueNames.validation,
      CONCURRENCY: String(config.concurrency),
      EXPECT: String(config.pages),
    });
    processes.push(naive);
    const done = naive.waitFor('done', config.timeoutMs);
    const meter = startCpuMeter([{ name: naive.name, pid: naive.child.pid }]);
    const t0 = Date.now();
    await queue.resume();
    const at = Number((await done).at);
    const seconds = (at - t0) / 1000;
    const cpuMs = meter.stop();
    const rssMiB = rssOf(processes);
    const plays = await count(client, 'SELECT count(*) AS n FROM my_played_tracks');
    const items = pages.reduce((n, p) => n + p.items.length, 0);
    return { round, seconds, pages: config.pages, plays, rssMiB, cpuMs, notes: { roundTrips: items } };
  } finally {
    await stopAll(processes);
    await queue.close();
    await client.end().catch(() => undefined);
    await db.drop();
    await dropPrefix(prefix, config.redisUrl);
  }
}

async function runCopy(ctx: Context, round: number): Promise<RunResult> {
  const db = await migratedDatabase('bench_copy');
  const client = new pg.Client({ connectionString: db.url });
  try {
    await client.connect();
    const meter = startCpuMeter([]);
    const t0 = performance.now();
    const lines: string[] = [];
    for (let i = 0; i < config.pages; i += 1) {
      const userId = copyValue(`bench-c${round}-u${i}`);
      const extractionId = copyValue(`bench-c${round}-${i}`);
      for (const play of ctx.basePlays[i % ctx.basePlays.length] ?? []) {
        lines.push(
          [
            userId,
            copyValue(play.track.uri),
            copyValue(play.playedAt),
            copyValue(play.context?.type ?? null),
            copyValue(play.context?.uri ?? null),
            extractionId,
          ].join('\t'),
        );
      }
    }
    await copyFromText(
      client,
      'COPY plays (user_id, track_uri, played_at, context_type, context_uri, extraction_id) FROM STDIN',
      `${lines.join('\n')}\n`,
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = meter.stop();
    const plays = await count(client, 'SELECT count(*) AS n FROM plays');
    return { round, seconds, pages: config.pages, plays, rssMiB: {}, cpuMs };
  } finally {
    await client.end().catch(() => undefined);
    await db.drop();
  }
}

const AUTH_SECRET = randomBytes(24).toString('hex');

/** A stand-in for auth's POST /internal/token: user bench-x<round>-u<i> gets simulated user (i mod K)'s token. */
async function startTokenServer(tokens: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/internal/token') return send(404, { error: 'not_found' });
      if (req.headers.authorization !== `Bearer ${AUTH_SECRET}`) return send(401, { error: 'unauthorized' });
      let userId: string;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { userId?: unknown };
        userId = typeof body.userId === 'string' ? body.userId : '';
      } catch {
        return send(400, { error: 'bad_request' });
      }
      const match = /-u(\d+)$/.exec(userId);
      const token = match ? tokens[Number(match[1]) % tokens.length] : undefined;
      if (!token) return send(404, { error: 'unknown_user' });
      return send(200, { accessToken: token, expiresAt: new Date(Date.now() + 3_000_000).toISOString() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Spread {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return (s[lo] ?? 0) + ((s[hi] ?? 0) - (s[lo] ?? 0)) * (pos - lo);
  };
  return { median: at(0.5), min: s[0] ?? 0, max: s[s.length - 1] ?? 0, q1: at(0.25), q3: at(0.75) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function machine(pgVersion: string, redisVersion: string): Record<string, string | number> {
  const cpu =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let free: string;
  try {
    free = execFileSync('free', ['-g'], { encoding: 'utf8' }).trimEnd();
  } catch {
    free = `${Math.round(os.totalmem() / 2 ** 30)} GiB total`;
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    memory: free,
    node: process.version,
    postgresql: pgVersion,
    redis: redisVersion,
    platform: `${os.type()} ${os.release()}`,
    // the machine may be shared: its load when the benchmark began and ended
    loadAverage: `${LOAD_AT_START} at start, ${loadAverage()} at end (1, 5, 15 min)`,
  };
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
}
const LOAD_AT_START = loadAverage();

const DESCRIPTIONS: Record<Side, string> = {
  pipeline: 'validator + loader services into PostgreSQL (product)',
  extractor: 'extractor service against the simulator (pages published)',
  bare3: 'bare BullMQ chain A -> B -> C, no-op hops (transport ceiling)',
  bare2: 'bare BullMQ chain A -> B, no-op hops',
  naive: 'naive loader: one INSERT per play per round trip',
  copy: 'PostgreSQL COPY of the same plays (store ceiling)',
};

async function main(): Promise<void> {
  const started = new Date();
  log(`config ${JSON.stringify({ ...config, redisUrl: undefined })}`);
  const admin = new pg.Client({
    connectionString: process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await admin.connect();
  const pgVersion =
    (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown';
  await admin.end();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';

  const sim = await startProcess('sim', 'tools/spotify-sim/src/main.ts', {
    SIM_PORT: '0',
    SIM_HOST: '127.0.0.1',
    SIM_SEED: '1',
    SIM_USERS: String(config.simUsers),
  });
  const simUrl = `http://127.0.0.1:${sim.port}`;
  let tokenServer: { url: string; close(): Promise<void> } | undefined;
  const results = Object.fromEntries(config.sides.map((s) => [s, [] as RunResult[]])) as Record<Side, RunResult[]>;
  try {
    const tokens: string[] = [];
    const base: unknown[][] = [];
    for (let i = 0; i < config.simUsers; i += 1) {
      const token = await simAccessToken(simUrl);
      tokens.push(token);
      base.push((await simRecentlyPlayed(simUrl, token)).map(slimItem));
    }
    const now = new Date();
    const basePlays = base.map(
      (items, i) =>
        validatePage(
          { extractionId: `base-${i}`, userId: `base-${i}`, fetchedAt: now.toISOString(), items, limit: 50 },
          now,
        ).load.plays,
    );
    tokenServer = await startTokenServer(tokens);
    const ctx: Context = {
      base,
      simUrl,
      authUrl: tokenServer.url,
      basePlays,
      playsPerBase: basePlays.map((p) => p.length),
    };
    const rawBytes = Buffer.byteLength(JSON.stringify(base[0] ?? []));
    log(
      `${base.length} simulator pages, ${expectedPlays(ctx, config.pages)} plays on ${config.pages} pages, ~${Math.round(rawBytes / 1024)} KiB per raw page`,
    );

    for (let round = 0; round < config.rounds; round += 1) {
      const order = config.sides.map((_, i) => config.sides[(i + round) % config.sides.length] as Side);
      for (const side of order) {
        const result = await runSide(ctx, side, round);
        results[side].push(result);
        log(
          `round ${round + 1}/${config.rounds} ${side}: ${result.seconds.toFixed(2)} s, ${Math.round(result.pages / result.seconds)} pages/s, ` +
            `${Math.round(result.plays / result.seconds)} plays/s ${JSON.stringify(result.rssMiB)}${result.notes ? ` ${JSON.stringify(result.notes)}` : ''}`,
        );
      }
    }
  } finally {
    await tokenServer?.close();
    await sim.stop();
    redis.disconnect();
  }
  writeResults(started, machine(pgVersion, redisVersion), results);
}

async function runSide(ctx: Context, side: Side, round: number): Promise<RunResult> {
  switch (side) {
    case 'pipeline':
      return runPipeline(ctx, round);
    case 'extractor':
      return runExtractor(ctx, round);
    case 'bare3':
      return runBare(ctx, round, 3);
    case 'bare2':
      return runBare(ctx, round, 2);
    case 'naive':
      return runNaive(ctx, round);
    case 'copy':
      return runCopy(ctx, round);
  }
}

interface SideSummary {
  description: string;
  runs: number;
  pagesPerSecond: Spread;
  playsPerSecond: Spread;
  seconds: Spread;
  plays: number[];
  /** peak RSS (VmHWM, MiB) of each process of the side: the highest and the median over rounds */
  peakRssMiB: Record<string, { max: number; median: number }>;
  /** CPU ms per page while the clock ran (median over rounds): in all, and by process */
  cpuMsPerPage: { total: Spread; by: Record<string, number> };
  rounds: RunResult[];
}

function summarize(side: Side, runs: RunResult[]): SideSummary {
  const rssNames = [...new Set(runs.flatMap((r) => Object.keys(r.rssMiB)))];
  const mapSpread = (f: (r: RunResult) => number): Spread => {
    const s = spread(runs.map(f));
    return { median: round2(s.median), min: round2(s.min), max: round2(s.max), q1: round2(s.q1), q3: round2(s.q3) };
  };
  return {
    description: DESCRIPTIONS[side],
    runs: runs.length,
    pagesPerSecond: mapSpread((r) => r.pages / r.seconds),
    playsPerSecond: mapSpread((r) => r.plays / r.seconds),
    seconds: mapSpread((r) => r.seconds),
    plays: runs.map((r) => r.plays),
    peakRssMiB: Object.fromEntries(
      rssNames.map((name) => {
        const values = runs.map((r) => r.rssMiB[name]).filter((v): v is number => typeof v === 'number');
        return [name, { max: Math.max(...values), median: round2(spread(values).median) }];
      }),
    ),
    cpuMsPerPage: {
      total: mapSpread((r) => Object.values(r.cpuMs).reduce((a, b) => a + b, 0) / r.pages),
      by: Object.fromEntries(
        [...new Set(runs.flatMap((r) => Object.keys(r.cpuMs)))].map((name) => [
          name,
          round2(spread(runs.map((r) => (r.cpuMs[name] ?? 0) / r.pages)).median),
        ]),
      ),
    },
    rounds: runs,
  };
}

function writeResults(started: Date, host: Record<string, string | number>, results: Record<Side, RunResult[]>): void {
  const sides = Object.fromEntries(config.sides.map((s) => [s, summarize(s, results[s])])) as Partial<
    Record<Side, SideSummary>
  >;
  // ratios of median throughput; the pipeline and the references move the same pages, so pages/s compare directly
  // (plays/s for COPY, which has no pages)
  const pages = (s: Side) => sides[s]?.pagesPerSecond.median;
  const plays = (s: Side) => sides[s]?.playsPerSecond.median;
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round2(a / b) : null);
  const cpu = (s: Side) => sides[s]?.cpuMsPerPage.total.median;
  const ratios = {
    pipeline_vs_bare_chain: ratio(pages('pipeline'), pages('bare3')),
    pipeline_vs_bare_chain_2hop: ratio(pages('pipeline'), pages('bare2')),
    pipeline_vs_naive_loader: ratio(plays('pipeline'), plays('naive')),
    copy_vs_pipeline: ratio(plays('copy'), plays('pipeline')),
    extractor_vs_pipeline: ratio(pages('extractor'), pages('pipeline')),
    // below 1: the pipeline needs less CPU per page (its processes, PostgreSQL and Redis) than the bare chain
    cpu_per_page_pipeline_vs_bare_chain: ratio(cpu('pipeline'), cpu('bare3')),
    cpu_per_page_pipeline_vs_naive_loader: ratio(cpu('pipeline'), cpu('naive')),
  };
  const goals = {
    pipeline_at_or_above_bare_chain: ratios.pipeline_vs_bare_chain === null ? null : ratios.pipeline_vs_bare_chain >= 1,
    pipeline_at_least_10x_naive_loader:
      ratios.pipeline_vs_naive_loader === null ? null : ratios.pipeline_vs_naive_loader >= 10,
  };
  const report = {
    date: started.toISOString(),
    durationSeconds: round2((Date.now() - started.getTime()) / 1000),
    machine: host,
    config: { ...config, redisUrl: undefined },
    ratios,
    goals,
    sides,
  };
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report.date, host, sides, ratios, goals);
  writeFileSync(path.join(REPO_ROOT, 'bench', 'RESULTS.md'), markdown);
  console.log(`\n${markdown}`);
  log('wrote bench/results/latest.json and bench/RESULTS.md');
}

function renderMarkdown(
  date: string,
  host: Record<string, string | number>,
  sides: Partial<Record<Side, SideSummary>>,
  ratios: Record<string, number | null>,
  goals: Record<string, boolean | null>,
): string {
  const f = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  const rows = config.sides.map((side) => {
    const s = sides[side];
    if (!s) return '';
    const rss = Object.entries(s.peakRssMiB)
      .map(([name, v]) => `${name} ${Math.round(v.max)}`)
      .join(', ');
    const pagesCell = side === 'copy' ? '–' : f(s.pagesPerSecond.median);
    const cpuParts = Object.entries(s.cpuMsPerPage.by)
      .filter(([, v]) => v >= 0.05)
      .map(([name, v]) => `${name} ${v.toFixed(1)}`)
      .join(', ');
    const cpuCell = `${s.cpuMsPerPage.total.median.toFixed(1)} (${cpuParts})`;
    return `| ${side} | ${s.description} | ${pagesCell} | ${f(s.playsPerSecond.median)} | ${f(s.playsPerSecond.min)} – ${f(s.playsPerSecond.max)} | ${f(s.playsPerSecond.q1)} – ${f(s.playsPerSecond.q3)} | ${s.seconds.median.toFixed(2)} | ${cpuCell} | ${rss || '–'} |`;
  });
  const memory = String(host.memory)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `# Benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${date}. ${config.rounds} rounds, sides interleaved with the order rotated
each round; ${config.pages} raw pages (${config.simUsers} distinct simulator pages of 50 items, each page under a user
of its own), concurrency ${config.concurrency} per worker, ${config.extractions} extraction requests for the extractor.
Throughput is the median over rounds; spread is min – max and the interquartile range. CPU is what the side's
processes, every PostgreSQL process and redis-server (and \`bench\`, this process) used while the clock ran, per page.
How each side is built and what the numbers mean: bench/README.md.

| side | what | pages/s | plays/s (median) | plays/s min – max | plays/s IQR | seconds (median) | CPU ms per page (median): all (by process) | peak RSS MiB (max over rounds) |
| ---- | ---- | ------: | ---------------: | ----------------: | ----------: | ---------------: | ------------------------------------------ | ------------------------------ |
${rows.filter(Boolean).join('\n')}

| ratio (of medians) | value |
| ------------------ | ----: |
${Object.entries(ratios)
  .map(([k, v]) => `| ${k} | ${v ?? '–'} |`)
  .join('\n')}

Goals: ${Object.entries(goals)
    .map(([k, v]) => `${k}: ${v === null ? 'not measured' : v ? 'met' : 'NOT met'}`)
    .join('; ')}.

Machine: ${host.nproc} CPUs (${host.cpu}), Node ${host.node}, PostgreSQL ${host.postgresql}, Redis ${host.redis},
${host.platform}. Load average: ${host.loadAverage}. \`free -g\`:

${memory}
`;
}

await main();
