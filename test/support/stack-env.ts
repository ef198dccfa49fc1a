// The env every product service of a test stack gets: the test's Redis, prefix and database, the simulator as
// Spotify, auth on a port chosen beforehand (its redirect URI must be known), and fresh secrets.
import { randomBytes } from 'node:crypto';

export const SIM_CLIENT_ID = 'playledger-sim-client';
export const SIM_CLIENT_SECRET = 'playledger-sim-secret';

export function productEnv(parts: {
  redisUrl: string;
  prefix: string;
  databaseUrl: string;
  simUrl: string;
  authPort: number;
  /** a variable given as undefined is left out (the product's default applies) */
  overrides?: Record<string, string | undefined>;
}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    LOG_LEVEL: 'info',
    REDIS_URL: parts.redisUrl,
    QUEUE_PREFIX: parts.prefix,
    STORE_KIND: 'postgres',
    DATABASE_URL: parts.databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    SPOTIFY_ACCOUNTS_URL: parts.simUrl,
    SPOTIFY_API_URL: parts.simUrl,
    SPOTIFY_CLIENT_ID: SIM_CLIENT_ID,
    SPOTIFY_CLIENT_SECRET: SIM_CLIENT_SECRET,
    SPOTIFY_REDIRECT_URI: `http://127.0.0.1:${parts.authPort}/callback`,
    AUTH_URL: `http://127.0.0.1:${parts.authPort}`,
    AUTH_SERVICE_SECRET: randomBytes(24).toString('hex'),
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    API_TOKEN: randomBytes(24).toString('hex'),
    // Extractions are requested by the tests; the scheduler's own runs stay out of the way.
    EXTRACTION_INTERVAL_MS: String(24 * 3600_000),
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...parts.overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
