// The auth service's configuration: read once at start-up, every problem named in one message.
import Type, { type Static } from 'typebox';
import { ConfigError, ConfigVars, KeyringError, TOKEN_ENCRYPTION_KEYS_PATTERN, loadConfig, parseKeyring } from '@playledger/common';

const Url = (fallback: string | undefined, description: string) =>
  fallback === undefined
    ? Type.String({ pattern: '^https?://', description })
    : Type.String({ pattern: '^https?://', default: fallback, description });

export const AuthConfigSchema = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  QUEUE_PREFIX: ConfigVars.QUEUE_PREFIX,
  STORE_KIND: ConfigVars.STORE_KIND,
  DATABASE_URL: ConfigVars.DATABASE_URL,
  /** login pages, the internal token endpoint, health and metrics */
  PORT: ConfigVars.port(8081),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'the address to listen on, such as 0.0.0.0' }),
  SHUTDOWN_TIMEOUT_MS: ConfigVars.SHUTDOWN_TIMEOUT_MS,
  /** Spotify's accounts service (or the simulator) */
  SPOTIFY_ACCOUNTS_URL: Url('https://accounts.spotify.com', 'an http(s) URL such as https://accounts.spotify.com'),
  SPOTIFY_API_URL: Url('https://api.spotify.com', 'an http(s) URL such as https://api.spotify.com'),
  SPOTIFY_CLIENT_ID: Type.String({ minLength: 1, description: "the Spotify app's client id" }),
  SPOTIFY_CLIENT_SECRET: Type.String({ minLength: 1, description: "the Spotify app's client secret" }),
  /** default http://127.0.0.1:<PORT>/callback (Spotify refuses plain http for localhost) */
  SPOTIFY_REDIRECT_URI: Type.Optional(Url(undefined, 'the redirect URI registered with Spotify, such as http://127.0.0.1:8081/callback')),
  /** headless set-up: this refresh token's user is registered at start-up */
  SPOTIFY_REFRESH_TOKEN: Type.Optional(Type.String({ minLength: 1, description: 'a Spotify refresh token' })),
  SPOTIFY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'milliseconds (>= 100) to wait for Spotify' }),
  SPOTIFY_QUOTA_PAUSE_MS: Type.Integer({
    minimum: 1_000,
    default: 900_000,
    description: 'milliseconds (>= 1000) to pause after QUOTA_EXCEEDED without Retry-After',
  }),
  /** the secret other services send to POST /internal/token and GET /users/expiring */
  AUTH_SERVICE_SECRET: Type.String({ minLength: 32, description: 'a shared secret of at least 32 characters' }),
  /** keyId:base64-of-32-bytes[,keyId:...], the first is current; older ones still decrypt */
  TOKEN_ENCRYPTION_KEYS: Type.String({
    pattern: TOKEN_ENCRYPTION_KEYS_PATTERN,
    description: 'keyId:base64-of-32-bytes[,keyId:...] (first is current), e.g. k1:$(openssl rand -base64 32)',
  }),
  /** how often each active user's extraction runs */
  EXTRACTION_INTERVAL_MS: Type.Integer({ minimum: 1_000, default: 600_000, description: 'milliseconds (>= 1000)' }),
  /** where people reach this service (links in pages and in the expiry list); default: the redirect URI's origin */
  AUTH_PUBLIC_URL: Type.Optional(Url(undefined, 'an http(s) URL such as https://auth.example.org')),
  /** how long a login may take between /login and /callback */
  LOGIN_STATE_TTL_MS: Type.Integer({ minimum: 1_000, default: 600_000, description: 'milliseconds (>= 1000)' }),
  /** logins that may be started per LOGIN_STATE_TTL_MS; bounds what pending logins hold in Redis */
  LOGIN_MAX_PER_WINDOW: Type.Integer({ minimum: 1, default: 10_000, description: 'a count (>= 1)' }),
});
export type AuthConfig = Static<typeof AuthConfigSchema>;

/** Loads and checks the config; key-ring problems the pattern cannot see (a key id twice) are reported the same way. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const config = loadConfig(AuthConfigSchema, env);
  try {
    parseKeyring(config.TOKEN_ENCRYPTION_KEYS);
  } catch (error) {
    if (error instanceof KeyringError) throw new ConfigError([`TOKEN_ENCRYPTION_KEYS is invalid: ${error.message}`]);
    throw error;
  }
  return config;
}

/** The redirect URI and the public base, once the port is known (PORT=0 picks one at listen time). */
export function publicUrls(config: AuthConfig, port: number): { redirectUri: string; publicBase: string } {
  const redirectUri = config.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/callback`;
  const publicBase = (config.AUTH_PUBLIC_URL ?? new URL(redirectUri).origin).replace(/\/+$/, '');
  return { redirectUri, publicBase };
}
