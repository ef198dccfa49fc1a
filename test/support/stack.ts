// The whole product as separate processes, for end-to-end and fault tests: the simulator, auth, and replicas of each
// worker (extractor, validator, loader), against a fresh PostgreSQL database (or one the test owns) and a unique
// queue prefix on the machine's Redis (or one the test owns); the harness's own queues and store use the same.
// Users log in through the real login flow; the test then moves the simulator's clock, requests extractions, waits
// until they are final and compares the database with the simulator's ledger. Any worker replica can be killed and
// started again, each replica may get its own env (a Redis URL through a proxy), and the waits on the store survive
// the store (or Redis) being away for a while.
import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueNames, defaultJobOptions, createLogger } from '@playledger/common';
import { FINAL_EXTRACTION_STATES, createStore, type Extraction, type StoredPlay, type Store } from '@playledger/store';
import type { LedgerComparison } from './ledger-compare.ts';
import { loginThroughAuth } from './login.ts';
import { failuresAndDeadLetters, jobSummary, pipelineJobs, type PipelineQueues } from './pipeline-jobs.ts';
import { productEnv } from './stack-env.ts';
import { spawnService, type LogLine, type ServiceProcess } from './processes.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from './redis.ts';
import { SimControl, type Ledger } from './sim-control.ts';
import { allExtractions, compareUser, inexactness, storedPlays } from './user-history.ts';
import { freePort, sleep, waitUntil } from './wait.ts';

export { freePort, sleep, waitUntil } from './wait.ts';
export { SIM_CLIENT_ID, SIM_CLIENT_SECRET } from './stack-env.ts';

export type WorkerService = 'extractor' | 'validator' | 'loader';
export const WORKER_SERVICES: readonly WorkerService[] = ['extractor', 'validator', 'loader'];

export interface StackOptions {
  label: string;
  /** names the database, the queue prefix and the extraction ids (default 'e2e') */
  tag?: string;
  /** replicas of each worker service (default 2) */
  replicas?: number;
  /** extra env for the simulator (SIM_START_DAYS_AGO, SIM_SEED...) */
  simEnv?: Record<string, string>;
  /** extra env for every product service; a variable given as undefined is left out (the product's default) */
  env?: Record<string, string | undefined>;
  /** extra env per service */
  serviceEnv?: Partial<Record<WorkerService | 'auth', Record<string, string>>>;
  /** extra env for one worker replica (index from 0), such as a REDIS_URL through a proxy */
  replicaEnv?: (service: WorkerService, index: number) => Record<string, string> | undefined;
  /** the Redis every process and the harness use (default: the machine's, under a unique prefix) */
  redisUrl?: string;
  /** the database every process and the harness use (default: a fresh database on the machine's PostgreSQL) */
  databaseUrl?: string;
  /** waitForFinal's default timeout (default 60 s) and its polling interval (default 40 ms) */
  finalTimeoutMs?: number;
  pollMs?: number;
  /** the level of the harness's own store logger (default 'error'; 'fatal' when the store is taken away on purpose) */
  harnessLogLevel?: 'error' | 'fatal';
}

export class Stack {
  readonly sim: ServiceProcess;
  readonly control: SimControl;
  readonly auth: ServiceProcess;
  readonly workers: Record<WorkerService, ServiceProcess[]>;
  /** the database the stack created (null when the test brought its own) */
  readonly db: TestDatabase | null;
  readonly prefix: string;
  readonly store: Store;
  readonly env: Record<string, string>;
  readonly queues: PipelineQueues;
  readonly redis: Redis;
  /** simulator user id -> the product's user id */
  readonly userIds = new Map<string, string>();
  private readonly options: StackOptions;
  private sequence = 0;

  private constructor(parts: {
    sim: ServiceProcess;
    auth: ServiceProcess;
    workers: Record<WorkerService, ServiceProcess[]>;
    db: TestDatabase | null;
    prefix: string;
    store: Store;
    env: Record<string, string>;
    redis: Redis;
    options: StackOptions;
  }) {
    this.sim = parts.sim;
    this.control = new SimControl(parts.sim.url);
    this.auth = parts.auth;
    this.workers = parts.workers;
    this.db = parts.db;
    this.prefix = parts.prefix;
    this.store = parts.store;
    this.env = parts.env;
    this.redis = parts.redis;
    this.options = parts.options;
    // the product's job options, as the api and the extractor add jobs (retries, bounded removal)
    const queueOptions = { connection: parts.redis, prefix: parts.prefix, defaultJobOptions };
    this.queues = {
      extractions: new Queue(QueueNames.extractions, queueOptions),
      validation: new Queue(QueueNames.validation, queueOptions),
      load: new Queue(QueueNames.load, queueOptions),
      deadLetters: new Queue(QueueNames.deadLetters, queueOptions),
    };
    // the harness's link may see Redis go away (a restart test): it reconnects; the errors are not news
    for (const q of Object.values(this.queues) as Queue<unknown>[]) q.on('error', () => undefined);
  }

  static async start(options: StackOptions): Promise<Stack> {
    const tag = options.tag ?? 'e2e';
    const started: ServiceProcess[] = [];
    const db = options.databaseUrl ? null : await createTestDatabase(`${tag}_${options.label}`);
    const databaseUrl = options.databaseUrl ?? (db as TestDatabase).url;
    const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
    const prefix = uniquePrefix(`${tag}-${options.label}`);
    try {
      const sim = await spawnService({
        name: 'sim',
        script: 'tools/spotify-sim/src/main.ts',
        env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_USERS: '0', SIM_SEED: '7', ...options.simEnv },
      });
      started.push(sim);
      const authPort = await freePort();
      const env = productEnv({ redisUrl, prefix, databaseUrl, simUrl: sim.url, authPort, overrides: options.env });
      // auth first: it applies the database migrations the others then find in place
      const auth = await spawnService({
        name: 'auth',
        script: 'services/auth/src/main.ts',
        env: { ...env, PORT: String(authPort), ...options.serviceEnv?.auth },
      });
      started.push(auth);
      const replicas = options.replicas ?? 2;
      const workers = Object.fromEntries(WORKER_SERVICES.map((s) => [s, [] as ServiceProcess[]])) as Record<
        WorkerService,
        ServiceProcess[]
      >;
      await Promise.all(
        WORKER_SERVICES.flatMap((service) =>
          Array.from({ length: replicas }, async (_, i) => {
            const p = await spawnWorker(service, i, env, options);
            started.push(p);
            workers[service][i] = p;
          }),
        ),
      );
      const logger = createLogger({ name: `${tag}-harness`, level: options.harnessLogLevel ?? 'error' });
      const store = await createStore({ kind: 'postgres', url: databaseUrl, logger });
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
      redis.on('error', () => undefined);
      return new Stack({ sim, auth, workers, db, prefix, store, env, redis, options });
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

  /** The processes of the stack that have ended (crashed, exited, or stopped by the test). */
  deadProcesses(): string[] {
    return this.processes.filter(hasEnded).map((p) => p.name);
  }

  /** Logs a simulator user in through the real login flow; returns the product's user id. */
  async login(simUserId: string): Promise<string> {
    await this.control.nextLogin(simUserId);
    const before = new Set((await this.store.listUsers()).map((u) => u.userId));
    await loginThroughAuth(this.auth.url, simUserId);
    const users = await this.store.listUsers();
    const user =
      users.find((u) => u.spotifyId === simUserId || u.userId === simUserId || u.accountId === simUserId) ??
      users.find((u) => !before.has(u.userId));
    if (!user) throw new Error(`login of ${simUserId} created no user`);
    this.userIds.set(simUserId, user.userId);
    return user.userId;
  }

  /** Adds each user to the simulator and logs them in. */
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

  /** A fresh extraction id, for a test that must know it before the request (to arm a freeze on it). */
  newExtractionId(): string {
    this.sequence += 1;
    return `${this.options.tag ?? 'e2e'}-${this.sequence}-${randomBytes(3).toString('hex')}`;
  }

  /** What the api's manual extraction does: create the record, then add the request with jobId = extractionId. */
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

  /** One request per user, in order. */
  async requestAll(simUserIds: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const u of simUserIds) ids.push(await this.requestExtraction(u));
    return ids;
  }

  /**
   * Waits until every extraction named is in a final state; returns them. A store that is away for a while only
   * delays the answer; a process of the stack that has ended fails the wait at once.
   */
  async waitForFinal(ids: readonly string[], timeoutMs = this.options.finalTimeoutMs ?? 60_000): Promise<Extraction[]> {
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
      const dead = this.processes.filter(hasEnded);
      if (dead.length > 0) {
        const what = dead.map((p) => `${p.name} (exit ${p.child.exitCode ?? p.child.signalCode})\n${tailOf(p)}`);
        throw new Error(`a service ended during the test: ${what.join('\n')}`);
      }
      if (Date.now() > deadline) {
        const pending = ids.filter((id) => !done.has(id)).slice(0, 5);
        const states = await Promise.all(pending.map((id) => this.store.getExtraction(id).catch(() => null)));
        const jobs = await Promise.all(pending.map((id) => jobSummary(this.queues, id).catch(() => null)));
        throw new Error(
          `extractions not final after ${timeoutMs} ms: ${JSON.stringify(states)} jobs ${JSON.stringify(jobs)}` +
            (lastError === undefined ? '' : ` last store error ${describeError(lastError)}`),
        );
      }
      await sleep(this.options.pollMs ?? 40);
    }
  }

  /** Requests one extraction per user (in order) and waits until all are final. */
  async extract(simUserIds: readonly string[], timeoutMs?: number): Promise<Extraction[]> {
    return this.waitForFinal(await this.requestAll(simUserIds), timeoutMs);
  }

  async storedPlays(simUserId: string): Promise<StoredPlay[]> {
    return storedPlays(this.store, this.userId(simUserId));
  }

  async allExtractions(simUserId: string): Promise<Extraction[]> {
    return allExtractions(this.store, this.userId(simUserId));
  }

  /**
   * The database against the ledger for one user, from `since` (default: the oldest play on the first page the
   * product fetched). `ledger` may be a snapshot taken earlier (a user who stopped being extracted).
   */
  async compare(simUserId: string, since?: Date, ledger?: Ledger): Promise<LedgerComparison> {
    const truth = ledger ?? (await this.control.ledger(simUserId));
    return compareUser(this.store, this.userId(simUserId), truth, since);
  }

  /** Throws with a readable difference unless every user's plays equal the ledger; returns the plays compared. */
  async expectExact(simUserIds: readonly string[], ledgers?: Map<string, Ledger>): Promise<number> {
    let total = 0;
    const problems: string[] = [];
    for (const u of simUserIds) {
      const c = await this.compare(u, undefined, ledgers?.get(u));
      total += c.storedCount;
      const problem = inexactness(u, c);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) throw new Error(`the database differs from the ledger:\n${problems.join('\n')}`);
    return total;
  }

  /** The extraction's jobs on the three pipeline queues: state, attemptsMade, stalledCounter, attemptsStarted. */
  jobSummary(extractionId: string): Promise<Record<string, unknown>> {
    return jobSummary(this.queues, extractionId);
  }

  pipelineJobs(): ReturnType<typeof pipelineJobs> {
    return pipelineJobs(this.queues);
  }

  failuresAndDeadLetters(): ReturnType<typeof failuresAndDeadLetters> {
    return failuresAndDeadLetters(this.queues, this.store);
  }

  /** The job of that id once it is in the queue (in any state). */
  async waitForJob<T>(queue: Queue<T>, jobId: string, timeoutMs = 30_000): Promise<Job<T>> {
    return waitUntil(async () => (await queue.getJob(jobId)) ?? null, timeoutMs, `job ${jobId} in ${queue.name}`);
  }

  /** Waits until that job has completed. */
  async waitForCompleted<T>(queue: Queue<T>, jobId: string, timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => ((await queue.getJobState(jobId)) === 'completed' ? true : null),
      timeoutMs,
      `job ${jobId} completed in ${queue.name}`,
    );
  }

  /** Lines of every process that match `predicate`. */
  logLines(predicate: (line: LogLine, process: ServiceProcess) => boolean): { process: string; line: LogLine }[] {
    return this.processes.flatMap((p) => p.find((l) => predicate(l, p)).map((line) => ({ process: p.name, line })));
  }

  /** Lines of every process that are errors (level >= 50). */
  errorLines(): { process: string; line: LogLine }[] {
    return this.logLines((l) => typeof l.json?.level === 'number' && l.json.level >= 50);
  }

  /** The secrets this stack handed out, for checking that no log line holds them. */
  secrets(): string[] {
    return [this.env.AUTH_SERVICE_SECRET, this.env.API_TOKEN, this.env.TOKEN_ENCRYPTION_KEYS?.split(':')[1]].filter(
      (s): s is string => typeof s === 'string',
    );
  }

  /** Stops everything (workers first: they finish active jobs), then removes the database and the queue keys. */
  async stop(): Promise<void> {
    await Promise.all(WORKER_SERVICES.flatMap((s) => this.workers[s].map((p) => p.stop())));
    await this.auth.stop();
    await this.sim.stop();
    await Promise.all(Object.values(this.queues).map((q: Queue<unknown>) => q.close().catch(() => undefined)));
    this.redis.disconnect();
    await this.store.close().catch(() => undefined);
    await this.db?.drop();
    await dropPrefix(this.prefix, this.options.redisUrl ?? TEST_REDIS_URL);
  }
}

function spawnWorker(
  service: WorkerService,
  index: number,
  env: Record<string, string>,
  options: StackOptions,
  suffix = '',
): Promise<ServiceProcess> {
  return spawnService({
    name: `${service}-${index + 1}${suffix}`,
    script: `services/${service}/src/main.ts`,
    env: { ...env, ...options.serviceEnv?.[service], ...options.replicaEnv?.(service, index) },
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}

function hasEnded(p: ServiceProcess): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

function tailOf(p: ServiceProcess, n = 25): string {
  return p.lines
    .slice(-n)
    .map((l) => `  ${l.stream}: ${l.text.slice(0, 400)}`)
    .join('\n');
}
