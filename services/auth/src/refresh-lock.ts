// One refresh at a time per user across replicas: a Redis lock (SET NX PX) with a random owner, released only by
// its owner (compare-and-delete), and expiring by itself if its holder dies.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuthKeys } from './keys.ts';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface HeldLock {
  release(): Promise<void>;
}

export class RefreshLocks {
  readonly #redis: Redis;
  readonly #keys: AuthKeys;
  readonly #ttlMs: number;

  constructor(deps: { redis: Redis; keys: AuthKeys; ttlMs: number }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#ttlMs = deps.ttlMs;
  }

  /** The lock if it was free, else null (someone else is refreshing). */
  async tryAcquire(userId: string): Promise<HeldLock | null> {
    const key = this.#keys.refreshLock(userId);
    const owner = randomBytes(16).toString('hex');
    const ok = await this.#redis.set(key, owner, 'PX', this.#ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      release: async () => {
        await this.#redis.eval(RELEASE, 1, key, owner);
      },
    };
  }
}
