// After a refresh fails for a reason that passes (Spotify down, a timeout, a 429), every replica answers the user's
// callers from here for a short while instead of asking Spotify again: an outage never turns into a retry storm.
import type { Redis } from 'ioredis';
import { RateLimitedError, TransientError } from '@playledger/common';
import type { AuthKeys } from './keys.ts';
import type { Clock } from './clock.ts';

/** How long callers are told "unavailable" after a transient refresh failure. */
export const TRANSIENT_BACKOFF_MS = 5_000;

type Remembered =
  | { kind: 'transient'; message: string }
  | { kind: 'rate-limited'; until: string; reason: RateLimitedError['reason']; message: string };

export class RefreshBackoff {
  readonly #redis: Redis;
  readonly #keys: AuthKeys;
  readonly #clock: Clock;

  constructor(deps: { redis: Redis; keys: AuthKeys; clock: Clock }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#clock = deps.clock;
  }

  /** Remembers a failure that will pass; anything else is not remembered. */
  async remember(userId: string, error: unknown): Promise<void> {
    let value: Remembered;
    let ttl: number;
    if (error instanceof RateLimitedError) {
      value = { kind: 'rate-limited', until: error.until.toISOString(), reason: error.reason, message: error.message };
      ttl = error.until.getTime() - this.#clock.now().getTime();
    } else if (error instanceof TransientError) {
      value = { kind: 'transient', message: error.message };
      ttl = TRANSIENT_BACKOFF_MS;
    } else {
      return;
    }
    if (ttl <= 0) return;
    await this.#redis.set(this.#keys.refreshBackoff(userId), JSON.stringify(value), 'PX', Math.ceil(ttl));
  }

  /** Throws the remembered failure while it lasts. */
  async check(userId: string): Promise<void> {
    const raw = await this.#redis.get(this.#keys.refreshBackoff(userId));
    if (raw === null) return;
    const value = JSON.parse(raw) as Remembered;
    switch (value.kind) {
      case 'rate-limited':
        throw new RateLimitedError(new Date(value.until), value.reason, value.message);
      case 'transient':
        throw new TransientError(`the last token refresh failed moments ago (${value.message}); retry later`);
    }
  }

  async clear(userId: string): Promise<void> {
    await this.#redis.del(this.#keys.refreshBackoff(userId));
  }
}
