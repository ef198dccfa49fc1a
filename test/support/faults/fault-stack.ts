// The whole product as separate processes for the fault tests, like test/support/stack.ts's Stack, with what the fault
// tests need beyond it (to be merged into Stack later):
// - the Redis and the database may be servers the test owns (its own redis-server, its own PostgreSQL cluster), and
//   the harness's own queues and store use those too;
// - the harness adds extraction requests with the product's default job options, as the api does (attempts and
//   backoff included), so a request meets the same retries as a real one;
// - any worker replica can be killed (SIGKILL) and started again, each replica may reach Redis through its own URL
//   (a freezing proxy), and every probe of the store survives the store being away.
// Product settings are the defaults: only EXTRACTION_INTERVAL_MS and SPOTIFY_QUOTA_PAUSE_MS are set.
import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  QueueNames,
  createLogger,
  defaultJobOptions,
  type DeadLetterJob,
  type ExtractionRequest,
  type LoadJob,
  type RawPageJob,
} from '@playledger/common';
import { FINAL_EXTRACTION_STATES, createStore, type Extraction, type StoredPlay, type Store } from '@playledger/store';
import { compareWithLedger, describeComparison, type LedgerComparison } from '../ledger-compare.ts';
import { spawnService, type LogLine, type ServiceProcess } from '../processes.ts';
import { createTestDatabase, type TestDatabase } from '../postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../redis.ts';
import { SimControl, type Ledger } from '../sim-control.ts';
import { SIM_CLIENT_ID, SIM_CLIENT_SECRET, WORKER_SERVICES, freePort, sleep, type WorkerService } from '../stack.ts';

export { WORKER_SERVICES, type WorkerService };

export interface FaultStackOptions {
  label: string;
  /** the Redis every process uses (default: the machine's, under a unique prefix) */
  redisUrl?: string;
  /** the database every process uses (default: a fresh database on the machine's PostgreSQL) */
  databaseUrl?: string;
  /** SPOTIFY_QUOTA_PAUSE_MS (the only product setting a test may change besides the interval) */
  quotaPauseMs?: number;
  /** EXTRACTION_INTERVAL_MS (default one day: the tests request extractions themselves) */
  extractionIntervalMs?: number;
  /** the Redis URL a worker replica uses, when it differs (a proxy) */
  workerRedisUrl?: (service: WorkerService, index: number) => string | undefined;
  simStartDaysAgo?: number;
}

export class FaultStack {
  readonly sim: ServiceProcess;
  readonly control: SimControl;
  readonly auth: ServiceProcess;
  readonly workers: Record<WorkerService, ServiceProcess[]>;
  readonly store: Store;
  readonly env: Record<string, string>;
  readonly prefix: string;
  readonly redis: Redis;
  readonly queues: {
    extractions: Queue<ExtractionRequest>;
    validation: Queue<RawPageJob>;
    load: Queue<LoadJob>;
    deadLetters: Queue<DeadLetterJob>;
  };
  readonly userIds = new Map<string, string>();
  private readonly options: FaultStackOptions;
  private readonly db: TestDatabase | null;
  private sequence = 0;

  private constructor(parts: {
    sim: ServiceProcess;
    auth: ServiceProcess;
    workers: Record<WorkerService, ServiceProcess[]>;
    store: Store;
    env: Record<string, string>;
    prefix: string;
    redis: Redis;
    db: TestDatabase | null;
    options: FaultStackOptions;
  }) {
    this.sim = parts.sim;
    this.control = new SimControl(parts.sim.url);
    this.auth = parts.auth;
    this.workers = parts.workers;
    this.store = parts.store;
    this.env = parts.env;
    this.prefix = parts.prefix;
    this.redis = parts.redis;
    this.db = parts.db;
    this.options = parts.options;
    // the api's queue options: the product's default attempts and backoff apply to the requests the tests add
    const queueOptions = { connection: parts.redis, prefix: parts.prefix, defaultJobOptions };
    this.queues = {
      extractions: new Queue<ExtractionRequest>(QueueNames.extractions, queueOptions),
      validation: new Queue<RawPageJob>(QueueNames.validation, queueOptions),
      load: new Queue<LoadJob>(QueueNames.load, queueOptions),
      deadLetters: new Queue<DeadLetterJob>(QueueNames.deadLetters, queueOptions),
    };
    for (const q of Object.values(this.queues) as Queue<unknown>[]) q.on('error', () => undefined);
  }

  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const started: ServiceProcess[] = [];
    const db = options.databaseUrl ? null : await createTestDatabase(`fault_${options.label}`);
    const databaseUrl = options.databaseUrl ?? (db as TestDatabase).url;
    const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
    const prefix = uniquePrefix(`fault-${options.label}`);
    try {
      const sim = await spawnService({
        name: 'sim',
        script: 'tools/spotify-sim/src/main.ts',
        env: {
          SIM_PORT: '0',
          SIM_HOST: '127.0.0.1',
          SIM_USERS: '0',
          SIM_SEED: '11',
          SIM_START_DAYS_AGO: String(options.simStartDaysAgo ?? 2),
        },
      });
      started.push(sim);
      const authPort = await freePort();
      const env: Record<string, string> = {
        LOG_LEVEL: 'info',
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        STORE_KIND: 'postgres',
        DATABASE_URL: databaseUrl,
        HOST: '127.0.0.1',
        PORT: '0',
        SPOTIFY_ACCOUNTS_URL: sim.url,
        SPOTIFY_API_URL: sim.url,
        SPOTIFY_CLIENT_ID: SIM_CLIENT_ID,
        SPOTIFY_CLIENT_SECRET: SIM_CLIENT_SECRET,
        SPOTIFY_REDIRECT_URI: `http://127.0.0.1:${authPort}/callback`,
        AUTH_URL: `http://127.0.0.1:${authPort}`,
        AUTH_SERVICE_SECRET: randomBytes(24).toString('hex'),
        TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        API_TOKEN: randomBytes(24).toString('hex'),
        EXTRACTION_INTERVAL_MS: String(options.extractionIntervalMs ?? 24 * 3600_000),
      };
      if (options.quotaPauseMs !== undefined) env.SPOTIFY_QUOTA_PAUSE_MS = String(options.quotaPauseMs);
      const auth = await spawnService({
        name: 'auth',
        script: 'services/auth/src/main.ts',
        env: { ...env, PORT: String(authPort) },
      });
      started.push(auth);
      const workers = { extractor: [], validator: [], loader: [] } as Record<WorkerService, ServiceProcess[]>;
      await Promise.all(
        WORKER_SERVICES.flatMap((service) =>
          [0, 1].map(async (i) => {
            const p = await spawnWorker(service, i, env, options);
            started.push(p);
            workers[service][i] = p;
          }),
        ),
      );
      const logger = createLogger({ name: 'fault-harness', level: 'fatal' });
      const store = await createStore({ kind: 'postgres', url: databaseUrl, logger });
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
      // the harness's own link may see Redis go away (a restart test): it reconnects; the errors are not news
      redis.on('error', () => undefined);
      return new FaultStack({ sim, auth, workers, store, env, prefix, redis, db, options });
    } catch (error) {
      await Promise.all(started.map((p) => p.stop(5_000)));
      await db?.drop().catch(() => undefined);
      await dropPrefix(prefix, redisUrl).catch(() => undefined);
      throw error;
    }
  }

  get processes(): ServiceProcess[] {
    return [this.sim, this.auth, ...WORKER_SERVICES.flatMap((s) => this.workers[s])];
  }

  /** SIGKILL of one replica; resolves once it is gone. */
  async killWorker(service: WorkerService, index: number): Promise<void> {
    const p = this.workers[service][index];
    if (!p) throw new Error(`no ${service} replica ${index}`);
    await p.kill();
  }

  /** Starts that replica again with the same settings (waits for its ready line). */
  async restartWorker(service: WorkerService, index: number): Promise<ServiceProcess> {
    const old = this.workers[service][index];
    if (old) await old.kill();
    const p = await spawnWorker(service, index, this.env, this.options, `-r${Date.now() % 100_000}`);
    this.workers[service][index] = p;
    return p;
  }

  /** The replica whose process has this pid. */
  replicaOfPid(pid: number): { service: WorkerService; index: number } | null {
    for (const service of WORKER_SERVICES) {
      const index = this.workers[service].findIndex((p) => p.child.pid === pid);
      if (index >= 0) return { service, index };
    }
    return null;
  }

  /** Lines of every process matching `predicate`. */
  logLines(predicate: (line: LogLine) => boolean): { process: string; line: LogLine }[] {
    return this.processes.flatMap((p) => p.find(predicate).map((line) => ({ process: p.name, line })));
  }

  /** Every process still running (none crashed, none exited). */
  deadProcesses(): string[] {
    return this.processes.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).map((p) => p.name);
  }

  async login(simUserId: string): Promise<string> {
    await this.control.nextLogin(simUserId);
    const before = new Set((await this.store.listUsers()).map((u) => u.userId));
    const cookies = new Map<string, string>();
    let url = new URL('/login', this.auth.url).toString();
    let last: Response | undefined;
    for (let hop = 0; hop < 10; hop += 1) {
      const sameHost = new URL(url).host === new URL(this.auth.url).host;
      const headers: Record<string, string> = {};
      if (sameHost && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      last = await fetch(url, { redirect: 'manual', headers });
      if (sameHost) {
        for (const c of last.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = pair?.indexOf('=') ?? -1;
          if (pair && eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
      }
      const location = last.headers.get('location');
      if (last.status < 300 || last.status >= 400 || !location) break;
      url = new URL(location, url).toString();
    }
    if (!last || last.status >= 400) throw new Error(`login of ${simUserId} ended with ${last?.status}`);
    const users = await this.store.listUsers();
    const user =
      users.find((u) => u.spotifyId === simUserId || u.accountId === simUserId) ??
      users.find((u) => !before.has(u.userId));
    if (!user) throw new Error(`login of ${simUserId} created no user`);
    this.userIds.set(simUserId, user.userId);
    return user.userId;
  }

  async addUsers(ids: readonly string[], playsPerHour: number): Promise<void> {
    for (const id of ids) {
      await this.control.addUser({ id, playsPerHour });
      await this.login(id);
    }
  }

  userId(simUserId: string): string {
    const id = this.userIds.get(simUserId);
    if (!id) throw new Error(`${simUserId} has not logged in`);
    return id;
  }

  /** What the api's manual extraction does: the record first, then the request with jobId = extractionId. */
  async requestExtraction(simUserId: string, extractionId = this.newExtractionId()): Promise<string> {
    const userId = this.userId(simUserId);
    await this.store.startExtraction({ id: extractionId, userId, trigger: 'manual', requestedAt: new Date() });
    await this.queues.extractions.add(
      'manual-extraction',
      { userId, trigger: 'manual', extractionId },
      { jobId: extractionId },
    );
    return extractionId;
  }

  /** A fresh extraction id, for a test that must know it before the request (to arm a freeze on it). */
  newExtractionId(): string {
    this.sequence += 1;
    return `fault-${this.sequence}-${randomBytes(3).toString('hex')}`;
  }

  async requestAll(simUserIds: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const u of simUserIds) ids.push(await this.requestExtraction(u));
    return ids;
  }

  /** Waits until every extraction named is final; a store that is away for a while only delays the answer. */
  async waitForFinal(ids: readonly string[], timeoutMs = 120_000): Promise<Extraction[]> {
    const deadline = Date.now() + timeoutMs;
    const done = new Map<string, Extraction>();
    let lastError: unknown;
    for (;;) {
      try {
        for (const id of ids) {
          if (done.has(id)) continue;
          const e = await this.store.getExtraction(id);
          if (e && FINAL_EXTRACTION_STATES.includes(e.state)) done.set(id, e);
        }
      } catch (error) {
        lastError = error;
      }
      if (done.size === ids.length) return ids.map((id) => done.get(id) as Extraction);
      // a service that died by itself (not killed by the test) is a failure at once, not after the timeout
      const dead = this.processes.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead.length > 0) {
        throw new Error(
          `a service ended during the test: ${dead.map((p) => `${p.name} (exit ${p.child.exitCode ?? p.child.signalCode})\n${tailOf(p)}`).join('\n')}`,
        );
      }
      if (Date.now() > deadline) {
        const pending = ids.filter((id) => !done.has(id));
        const states = await Promise.all(
          pending.slice(0, 5).map((id) => this.store.getExtraction(id).catch(() => null)),
        );
        const jobs = await Promise.all(pending.slice(0, 5).map((id) => this.jobSummary(id)));
        throw new Error(
          `extractions not final after ${timeoutMs} ms: ${JSON.stringify(states)} jobs ${JSON.stringify(jobs)} ` +
            `last store error ${String(lastError)}`,
        );
      }
      await sleep(100);
    }
  }

  async extract(simUserIds: readonly string[], timeoutMs?: number): Promise<Extraction[]> {
    return this.waitForFinal(await this.requestAll(simUserIds), timeoutMs);
  }

  /** The extraction's jobs on the three queues: state, attemptsMade, stalledCounter. */
  async jobSummary(extractionId: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const pairs: [string, Queue<unknown>, string][] = [
      ['extraction', this.queues.extractions as unknown as Queue<unknown>, extractionId],
      ['validation', this.queues.validation as unknown as Queue<unknown>, `raw-${extractionId}`],
      ['load', this.queues.load as unknown as Queue<unknown>, `load-${extractionId}`],
    ];
    for (const [name, queue, id] of pairs) {
      const job = (await queue.getJob(id)) as Job<unknown> | undefined;
      out[name] = job ? { state: await job.getState(), ...jobCounters(job) } : null;
    }
    return out;
  }

  async storedPlays(simUserId: string): Promise<StoredPlay[]> {
    const plays: StoredPlay[] = [];
    for await (const play of this.store.streamPlays(this.userId(simUserId), {})) plays.push(play);
    return plays;
  }

  async allExtractions(simUserId: string): Promise<Extraction[]> {
    const out: Extraction[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listExtractions({ userId: this.userId(simUserId), limit: 500, cursor });
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  /**
   * The database against the ledger for one user, play by play, from the oldest play of the user's first fetched
   * page (where the product's history starts). `ledger` may be a snapshot taken earlier (a user who stopped being
   * extracted).
   */
  async compare(simUserId: string, ledger?: Ledger): Promise<LedgerComparison> {
    const truth = ledger ?? (await this.control.ledger(simUserId));
    const fetched = (await this.allExtractions(simUserId))
      .filter((e) => e.fetchedAt && e.oldestPlayedAt)
      .sort((a, b) => (a.fetchedAt as Date).getTime() - (b.fetchedAt as Date).getTime());
    const cutoff = fetched[0]?.oldestPlayedAt?.getTime() ?? -Infinity;
    return compareWithLedger(
      truth.plays.filter((p) => p.playedAtMs >= cutoff),
      await this.storedPlays(simUserId),
    );
  }

  /** Throws with a readable difference unless every user's plays equal the ledger; returns the plays compared. */
  async expectExact(simUserIds: readonly string[], ledgers?: Map<string, Ledger>): Promise<number> {
    let total = 0;
    const problems: string[] = [];
    for (const u of simUserIds) {
      const c = await this.compare(u, ledgers?.get(u));
      total += c.storedCount;
      if (c.missing.length + c.extra.length + c.doubled.length + c.differences.length > 0 || c.storedCount === 0) {
        problems.push(`${u}: ${describeComparison(c)}`);
      }
    }
    if (problems.length > 0) throw new Error(`the database differs from the ledger:\n${problems.join('\n')}`);
    return total;
  }

  /** Jobs failed for good on any queue, and dead letters in the queue or the table. */
  async failuresAndDeadLetters(): Promise<{
    failedJobs: Record<string, number>;
    deadLetterJobs: number;
    deadLetterRows: number;
  }> {
    const failedJobs: Record<string, number> = {};
    for (const q of [this.queues.extractions, this.queues.validation, this.queues.load, this.queues.deadLetters]) {
      failedJobs[q.name] = await q.getFailedCount();
    }
    const counts = await this.queues.deadLetters.getJobCounts();
    const deadLetterJobs = Object.values(counts).reduce((a, b) => a + b, 0);
    const rows = await this.store.listDeadLetters({}, { limit: 100 });
    return { failedJobs, deadLetterJobs, deadLetterRows: rows.items.length };
  }

  /** Every job of the three pipeline queues (in any state), with its counters. */
  async pipelineJobs(): Promise<
    {
      queue: string;
      id: string;
      state: string;
      attemptsMade: number;
      stalledCounter: number;
      attemptsStarted: number;
    }[]
  > {
    const out = [];
    for (const q of [
      this.queues.extractions,
      this.queues.validation,
      this.queues.load,
    ] as unknown as Queue<unknown>[]) {
      const jobs = await q.getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1);
      for (const job of jobs) {
        if (!job?.id) continue;
        out.push({ queue: q.name, id: job.id, state: await job.getState(), ...jobCounters(job) });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(WORKER_SERVICES.flatMap((s) => this.workers[s].map((p) => p.stop(10_000))));
    await this.auth.stop(10_000);
    await this.sim.stop(5_000);
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => undefined)));
    this.redis.disconnect();
    await this.store.close().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
    await dropPrefix(this.prefix, this.options.redisUrl ?? TEST_REDIS_URL).catch(() => undefined);
  }
}

export function jobCounters(job: Job<unknown>): {
  attemptsMade: number;
  stalledCounter: number;
  attemptsStarted: number;
} {
  return { attemptsMade: job.attemptsMade, stalledCounter: job.stalledCounter, attemptsStarted: job.attemptsStarted };
}

function spawnWorker(
  service: WorkerService,
  index: number,
  env: Record<string, string>,
  options: FaultStackOptions,
  suffix = '',
): Promise<ServiceProcess> {
  const redisUrl = options.workerRedisUrl?.(service, index);
  return spawnService({
    name: `${service}-${index + 1}${suffix}`,
    script: `services/${service}/src/main.ts`,
    env: { ...env, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) },
  });
}

function tailOf(p: ServiceProcess, n = 25): string {
  return p.lines
    .slice(-n)
    .map((l) => `  ${l.stream}: ${l.text.slice(0, 400)}`)
    .join('\n');
}

/** Wall time of a fault test, printed for the suite's log. */
export function reportWallTime(name: string, startedAt: number): void {
  console.log(`fault test "${name}": ${((Date.now() - startedAt) / 1000).toFixed(1)} s wall time`);
}
