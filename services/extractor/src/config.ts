// The extractor's configuration: read once at start-up; a bad value stops the process naming every problem.
import Type, { type Static } from 'typebox';
import { ConfigVars, loadConfig } from '@playledger/common';

export const ExtractorConfigSchema = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  QUEUE_PREFIX: ConfigVars.QUEUE_PREFIX,
  STORE_KIND: ConfigVars.STORE_KIND,
  DATABASE_URL: ConfigVars.DATABASE_URL,
  SHUTDOWN_TIMEOUT_MS: ConfigVars.SHUTDOWN_TIMEOUT_MS,
  PORT: ConfigVars.port(8082),
  HOST: Type.String({ default: '0.0.0.0', description: 'the address to listen on, such as 0.0.0.0 or 127.0.0.1' }),
  SPOTIFY_API_URL: Type.String({
    pattern: '^https?://',
    default: 'https://api.spotify.com',
    description: 'the Spotify Web API base URL (or the simulator), such as https://api.spotify.com',
  }),
  SPOTIFY_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description: 'milliseconds before a call to Spotify counts as timed out (>= 100)',
  }),
  SPOTIFY_QUOTA_PAUSE_MS: Type.Integer({
    minimum: 0,
    default: 900_000,
    description: 'milliseconds to pause all extractions after QUOTA_EXCEEDED without Retry-After (>= 0)',
  }),
  AUTH_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:8081',
    description: 'where the auth service answers, such as http://127.0.0.1:8081',
  }),
  AUTH_SERVICE_SECRET: Type.String({ minLength: 32, description: 'the service-to-service secret (>= 32 characters)' }),
  EXTRACTION_INTERVAL_MS: Type.Integer({
    minimum: 1_000,
    default: 600_000,
    description: 'milliseconds between two scheduled extractions of one user (>= 1000)',
  }),
  RECONCILE_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 60_000,
    description: 'milliseconds between two reconciliations of schedules with the store, and stale-extraction sweeps (>= 100)',
  }),
  STALE_EXTRACTION_MS: Type.Integer({
    minimum: 1_000,
    default: 7_200_000,
    description:
      'milliseconds after which an extraction that is still not final is failed as lost in transit (>= 1000); ' +
      'keep it above the longest quota pause plus all retries',
  }),
  EXTRACTOR_CONCURRENCY: Type.Integer({
    minimum: 1,
    default: 4,
    description: 'extraction jobs one process runs at once (>= 1)',
  }),
});
export type ExtractorConfig = Static<typeof ExtractorConfigSchema>;

export function loadExtractorConfig(env: Record<string, string | undefined> = process.env): ExtractorConfig {
  return loadConfig(ExtractorConfigSchema, env);
}
