// Access tokens shared by every replica: encrypted in Redis under QUEUE_PREFIX, kept until shortly before they expire.
import type { Redis } from 'ioredis';
import { SecretBoxError, registerSecret, type Logger, type SealedValue, type SecretBox } from '@playledger/common';
import type { AuthKeys } from './keys.ts';
import type { Clock } from './clock.ts';

/** A cached token is handed out only while it has at least this long to live (or a quarter of its life, if shorter). */
export const EXPIRY_MARGIN_MS = 5 * 60_000;

export interface CachedToken {
  accessToken: string;
  expiresAt: Date;
}

interface StoredToken extends SealedValue {
  expiresAt: string;
  /** handed out until then; replaced after */
  usableUntil: string;
}

export class TokenCache {
  readonly #redis: Redis;
  readonly #keys: AuthKeys;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { redis: Redis; keys: AuthKeys; box: SecretBox; clock: Clock; logger: Logger }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#box = deps.box;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  async get(userId: string): Promise<CachedToken | null> {
    const raw = await this.#redis.get(this.#keys.token(userId));
    if (raw === null) return null;
    const stored = JSON.parse(raw) as StoredToken;
    const expiresAt = new Date(stored.expiresAt);
    if (new Date(stored.usableUntil).getTime() <= this.#clock.now().getTime()) return null;
    let accessToken: string;
    try {
      accessToken = this.#box.open(stored, context(userId));
    } catch (error) {
      // a key dropped from TOKEN_ENCRYPTION_KEYS (or a damaged entry): a cached token is cheap to replace
      if (!(error instanceof SecretBoxError)) throw error;
      this.#logger.warn({ userId, err: error }, 'cached access token cannot be decrypted; refreshing instead');
      return null;
    }
    registerSecret(accessToken);
    return { accessToken, expiresAt };
  }

  async put(userId: string, token: CachedToken): Promise<void> {
    const lifetime = token.expiresAt.getTime() - this.#clock.now().getTime();
    const ttl = lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 4);
    if (ttl < 1) return;
    const stored: StoredToken = {
      ...this.#box.seal(token.accessToken, context(userId)),
      expiresAt: token.expiresAt.toISOString(),
      usableUntil: new Date(this.#clock.now().getTime() + ttl).toISOString(),
    };
    await this.#redis.set(this.#keys.token(userId), JSON.stringify(stored), 'PX', Math.ceil(ttl));
  }

  async delete(userId: string): Promise<void> {
    await this.#redis.del(this.#keys.token(userId));
  }
}

function context(userId: string): string {
  return `access:${userId}`;
}
