// The fault tests' settings for the shared harness (test/support/stack.ts): the product's defaults everywhere
// (only EXTRACTION_INTERVAL_MS and, when a test asks, SPOTIFY_QUOTA_PAUSE_MS are set), a Redis and a database the
// test may own, a Redis URL per worker replica (a freezing proxy), longer waits, and a quiet harness store (the
// test takes it away on purpose).
import { Stack, type WorkerService } from '../stack.ts';

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

export function startFaultStack(options: FaultStackOptions): Promise<Stack> {
  return Stack.start({
    label: options.label,
    tag: 'fault',
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    simEnv: { SIM_SEED: '11', SIM_START_DAYS_AGO: String(options.simStartDaysAgo ?? 2) },
    env: {
      EXTRACTION_INTERVAL_MS: String(options.extractionIntervalMs ?? 24 * 3600_000),
      SPOTIFY_QUOTA_PAUSE_MS: options.quotaPauseMs === undefined ? undefined : String(options.quotaPauseMs),
      SHUTDOWN_TIMEOUT_MS: undefined,
    },
    replicaEnv: (service, index) => {
      const url = options.workerRedisUrl?.(service, index);
      return url ? { REDIS_URL: url } : undefined;
    },
    finalTimeoutMs: 120_000,
    pollMs: 100,
    harnessLogLevel: 'fatal',
  });
}

/** Wall time of a fault test, printed for the suite's log. */
export function reportWallTime(name: string, startedAt: number): void {
  console.log(`fault test "${name}": ${((Date.now() - startedAt) / 1000).toFixed(1)} s wall time`);
}
