// The whole product as separate processes, for end-to-end tests: the simulator, auth, and two replicas of each
// worker (extractor, validator, loader), against a fresh PostgreSQL database and a unique queue prefix on the
// machine's Redis. Users log in through the real login flow; the test then moves the simulator's clock, requests
// extractions, waits until they are final and compares the database with the simulator's ledger.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  QueueNames,
  defaultJobOptions,
  createLogger,
  type DeadLetterJob,
  type ExtractionRequest,
  type LoadJob,
  type RawPageJob,
} from '@playledger/common';
import { FINAL_EXTRACTION_STATES, createStore, type Extraction, type StoredPlay, type Store } from '@playledger/store';
import { compareWithLedger, type LedgerComparison } from './ledger-compare.ts';
import { spawnService, type LogLine, type ServiceProcess } from './processes.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from './redis.ts';
import { SimControl } from './sim-control.ts';

export type WorkerService = 'extractor' | 'validator' | 'loader';
export const WORKER_SERVICES: readonly WorkerService[] = ['extractor', 'validator', 'loader'];

export interface StackOptions {
  label: string;
  /** replicas of each worker service (default 2) */
  replicas?: number;
  /** extra env for the simulator (SIM_START_DAYS_AGO...) */
  simEnv?: Record<string, string>;
  /** extra env for every product service */
  env?: Record<string, string>;
  /** extra env per service */
  serviceEnv?: Partial<Record<WorkerService | 'auth', Record<string, string>>>;
}

export const SIM_CLIENT_ID = 'playledger-sim-client';
export const SIM_CLIENT_SECRET = 'playledger-sim-secret';

export class Stack {
  readonly sim: ServiceProcess;
  readonly control: SimControl;
  readonly auth: ServiceProcess;
  readonly workers: Record<WorkerService, ServiceProcess[]>;
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly store: Store;
  readonly env: Record<string, string>;
  readonly queues: {
    extractions: Queue<ExtractionRequest>;
    validation: Queue<RawPageJob>;
    load: Queue<LoadJob>;
    deadLetters: Queue<DeadLetterJob>;
  };
  private readonly redis: Redis;
  /** simulator user id -> the product's user id */
  readonly userIds = new Map<string, string>();
  private sequence = 0;

  private constructor(parts: {
    sim: ServiceProcess;
    auth: ServiceProcess;
    workers: Record<WorkerService, ServiceProcess[]>;
    db: TestDatabase;
    prefix: string;
    store: Store;
    env: Record<string, string>;
    redis: Redis;
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
    // the product's job options, as the api and the extractor add jobs (retries, bounded removal)
    const queueOptions = { connection: parts.redis, prefix: parts.prefix, defaultJobOptions };
    this.queues = {
      extractions: new Queue<ExtractionRequest>(QueueNames.extractions, queueOptions),
      validation: new Queue<RawPageJob>(QueueNames.validation, queueOptions),
      load: new Queue<LoadJob>(QueueNames.load, queueOptions),
      deadLetters: new Queue<DeadLetterJob>(QueueNames.deadLetters, queueOptions),
    };
  }

  static async start(options: StackOptions): Promise<Stack> {
    const started: ServiceProcess[] = [];
    const db = await createTestDatabase(`e2e_${options.label}`);
    const prefix = uniquePrefix(`e2e-${options.label}`);
    try {
      const sim = await spawnService({
        name: 'sim',
        script: 'tools/spotify-sim/src/main.ts',
        env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_USERS: '0', SIM_SEED: '7', ...options.simEnv },
      });
      started.push(sim);
      const authPort = await freePort();
      const env: Record<string, string> = {
        LOG_LEVEL: 'info',
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        STORE_KIND: 'postgres',
        DATABASE_URL: db.url,
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
        // Extractions are requested by the tests; the scheduler's own runs stay out of the way.
        EXTRACTION_INTERVAL_MS: String(24 * 3600_000),
        SHUTDOWN_TIMEOUT_MS: '10000',
        ...options.env,
      };
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
            const p = await spawnService({
              name: `${service}-${i + 1}`,
              script: `services/${service}/src/main.ts`,
              env: { ...env, ...options.serviceEnv?.[service] },
            });
            started.push(p);
            workers[service].push(p);
          }),
        ),
      );
      const logger = createLogger({ name: 'e2e', level: 'error' });
      const store = await createStore({ kind: 'postgres', url: db.url, logger });
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      return new Stack({ sim, auth, workers, db, prefix, store, env, redis });
    } catch (error) {
      await Promise.all(started.map((p) => p.stop(5_000)));
      await db.drop().catch(() => undefined);
      await dropPrefix(prefix).catch(() => undefined);
      throw error;
    }
  }

  get processes(): ServiceProcess[] {
    return [this.sim, this.auth, ...WORKER_SERVICES.flatMap((s) => this.workers[s])];
  }

  /**
   * Logs a simulator user in through the real login flow: GET auth /login, then every redirect through the
   * simulator's /authorize back to auth's /callback, with auth's cookies kept between the hops.
   */
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
    if (!last || last.status >= 400) {
      throw new Error(`login of ${simUserId} ended with ${last?.status}: ${await last?.text()}`);
    }
    const users = await this.store.listUsers();
    const user =
      users.find((u) => u.spotifyId === simUserId || u.userId === simUserId || u.accountId === simUserId) ??
      users.find((u) => !before.has(u.userId));
    if (!user) throw new Error(`login of ${simUserId} created no user`);
    this.userIds.set(simUserId, user.userId);
    return user.userId;
  }

  userId(simUserId: string): string {
    const id = this.userIds.get(simUserId);
    if (!id) throw new Error(`${simUserId} has not logged in`);
    return id;
  }

  /** What the api's manual extraction does: create the record, then add the request with jobId = extractionId. */
  async requestExtraction(simUserId: string): Promise<string> {
    const userId = this.userId(simUserId);
    this.sequence += 1;
    const extractionId = `e2e-${this.sequence}-${randomBytes(3).toString('hex')}`;
    await this.store.startExtraction({ id: extractionId, userId, trigger: 'manual', requestedAt: new Date() });
    await this.queues.extractions.add('manual-extraction', { userId, trigger: 'manual', extractionId }, { jobId: extractionId });
    return extractionId;
  }

  /** Waits until every extraction named is in a final state; returns them. */
  async waitForFinal(ids: readonly string[], timeoutMs = 60_000): Promise<Extraction[]> {
    const deadline = Date.now() + timeoutMs;
    const done = new Map<string, Extraction>();
    for (;;) {
      for (const id of ids) {
        if (done.has(id)) continue;
        const e = await this.store.getExtraction(id);
        if (e && FINAL_EXTRACTION_STATES.includes(e.state)) done.set(id, e);
      }
      if (done.size === ids.length) return ids.map((id) => done.get(id) as Extraction);
      if (Date.now() > deadline) {
        const pending = ids.filter((id) => !done.has(id));
        const states = await Promise.all(pending.slice(0, 5).map((id) => this.store.getExtraction(id)));
        throw new Error(`extractions not final after ${timeoutMs} ms: ${JSON.stringify(states)}`);
      }
      await sleep(40);
    }
  }

  /** Requests one extraction per user and waits until all are final. */
  async extract(simUserIds: readonly string[], timeoutMs?: number): Promise<Extraction[]> {
    const ids = await Promise.all(simUserIds.map((u) => this.requestExtraction(u)));
    return this.waitForFinal(ids, timeoutMs);
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
   * The database against the ledger for one user. The user's history starts at their first fetched page (the
   * product cannot know older plays), so ledger plays before `since` (default: the oldest play on the first page
   * the product fetched) are left out.
   */
  async compare(simUserId: string, since?: Date): Promise<LedgerComparison> {
    const ledger = await this.control.ledger(simUserId);
    let from = since;
    if (!from) {
      const fetched = (await this.allExtractions(simUserId))
        .filter((e) => e.fetchedAt && e.oldestPlayedAt)
        .sort((a, b) => (a.fetchedAt as Date).getTime() - (b.fetchedAt as Date).getTime());
      from = fetched[0]?.oldestPlayedAt ?? undefined;
    }
    const cutoff = from?.getTime() ?? -Infinity;
    return compareWithLedger(
      ledger.plays.filter((p) => p.playedAtMs >= cutoff),
      await this.storedPlays(simUserId),
    );
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

  /** Lines of every process that are errors (level >= 50), or match `predicate`. */
  logLines(predicate: (line: LogLine, process: ServiceProcess) => boolean): { process: string; line: LogLine }[] {
    return this.processes.flatMap((p) => p.find((l) => predicate(l, p)).map((line) => ({ process: p.name, line })));
  }

  errorLines(): { process: string; line: LogLine }[] {
    return this.logLines((l) => typeof l.json?.level === 'number' && l.json.level >= 50);
  }

  /** The secrets this stack handed out, for checking that no log line holds them. */
  secrets(): string[] {
    return [this.env.AUTH_SERVICE_SECRET, this.env.API_TOKEN, this.env.TOKEN_ENCRYPTION_KEYS?.split(':')[1]].filter(
      (s): s is string => typeof s === 'string',
    );
  }

  async stop(): Promise<void> {
    // workers first (they finish active jobs), then auth, then the simulator
    await Promise.all(WORKER_SERVICES.flatMap((s) => this.workers[s].map((p) => p.stop())));
    await this.auth.stop();
    await this.sim.stop();
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.redis.disconnect();
    await this.store.close();
    await this.db.drop();
    await dropPrefix(this.prefix);
  }
}

export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it gives something other than null. */
export async function waitUntil<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
