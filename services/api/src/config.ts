// The api service's configuration, read and checked once at start-up (see loadConfig in libs/common).
import Type, { type Static } from 'typebox';
import { ConfigVars, loadConfig } from '@playledger/common';

export const ApiConfigSchema = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  QUEUE_PREFIX: ConfigVars.QUEUE_PREFIX,
  STORE_KIND: ConfigVars.STORE_KIND,
  DATABASE_URL: ConfigVars.DATABASE_URL,
  PORT: ConfigVars.port(8080),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'the interface to listen on, such as 0.0.0.0' }),
  SHUTDOWN_TIMEOUT_MS: ConfigVars.SHUTDOWN_TIMEOUT_MS,
  /** the operators' bearer token; the login page accepts the same value */
  API_TOKEN: Type.String({ minLength: 32, description: 'the operators bearer token (at least 32 characters)' }),
  /** where a person's browser reaches the auth service (the re-login link of expiring users) */
  AUTH_PUBLIC_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:8081',
    description: 'the public URL of the auth service, such as https://auth.example.org',
  }),
  /** the schedule a resumed user gets back */
  EXTRACTION_INTERVAL_MS: Type.Integer({
    minimum: 60_000,
    default: 600_000,
    description: 'milliseconds between scheduled extractions of a user (>= 60000)',
  }),
  /** how long a browser session lasts after signing in */
  SESSION_TTL_MS: Type.Integer({
    minimum: 1_000,
    default: 12 * 3600 * 1000,
    description: 'milliseconds a browser session lasts (>= 1000)',
  }),
  /** the largest request body accepted */
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    default: 1_048_576,
    description: 'the largest request body in bytes (>= 1024)',
  }),
});
export type ApiConfig = Static<typeof ApiConfigSchema>;

export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  return loadConfig(ApiConfigSchema, env);
}
