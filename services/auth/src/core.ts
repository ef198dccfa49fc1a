// The parts of auth that routes and the headless set-up share, built from the process's dependencies.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger, Metrics, SecretBox } from '@playledger/common';
import type { Store } from '@playledger/store';
import type { Clock } from './clock.ts';
import { authKeys } from './keys.ts';
import { LoginStates } from './login-states.ts';
import { RefreshLocks } from './refresh-lock.ts';
import { RefreshBackoff } from './refresh-backoff.ts';
import type { RegistrationDeps } from './registration.ts';
import type { SpotifyAccounts } from './spotify-port.ts';
import { TokenCache } from './token-cache.ts';
import { TokenService } from './token-service.ts';

export interface CoreDeps {
  logger: Logger;
  /** a producer connection (fails fast) for auth's own keys */
  redis: Redis;
  store: Store;
  spotify: SpotifyAccounts;
  box: SecretBox;
  /** the extractions queue, where user schedules live */
  extractions: Queue;
  metrics: Metrics;
  clock: Clock;
  queuePrefix: string;
  loginStateTtlMs: number;
  /** logins that may be started per LOGIN_STATE_TTL_MS window */
  loginMaxPerWindow: number;
  extractionIntervalMs: number;
  spotifyTimeoutMs: number;
}

export interface AuthCore {
  states: LoginStates;
  cache: TokenCache;
  tokens: TokenService;
  registration: RegistrationDeps;
}

export function createAuthCore(d: CoreDeps): AuthCore {
  const keys = authKeys(d.queuePrefix);
  const cache = new TokenCache({ redis: d.redis, keys, box: d.box, clock: d.clock, logger: d.logger });
  // The lock outlives a slow Spotify answer plus the store writes; waiters give up a little before callers time out.
  const locks = new RefreshLocks({ redis: d.redis, keys, ttlMs: 2 * d.spotifyTimeoutMs + 5_000 });
  const tokens = new TokenService({
    store: d.store,
    spotify: d.spotify,
    cache,
    locks,
    backoff: new RefreshBackoff({ redis: d.redis, keys, clock: d.clock }),
    box: d.box,
    extractions: d.extractions,
    metrics: d.metrics,
    logger: d.logger,
    waitMs: d.spotifyTimeoutMs + 3_000,
  });
  return {
    states: new LoginStates({ redis: d.redis, keys, box: d.box, ttlMs: d.loginStateTtlMs, maxPerWindow: d.loginMaxPerWindow }),
    cache,
    tokens,
    registration: {
      store: d.store,
      spotify: d.spotify,
      cache,
      box: d.box,
      extractions: d.extractions,
      intervalMs: d.extractionIntervalMs,
      logger: d.logger,
    },
  };
}
