// Browser sessions: a random id in a signed, HttpOnly cookie; Redis keeps a hash of the id with a TTL, so a
// session ends on time (or on logout) on every replica, and a Redis dump reveals no usable session id.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

export const SESSION_COOKIE = 'pl_session';

export interface SessionStore {
  create(): Promise<{ id: string; expiresAt: Date }>;
  isValid(id: string): Promise<boolean>;
  destroy(id: string): Promise<void>;
  readonly ttlMs: number;
}

export function createSessionStore(redis: Redis, keyPrefix: string, ttlMs: number): SessionStore {
  const key = (id: string) => `${keyPrefix}:api:session:${createHash('sha256').update(id).digest('hex')}`;
  return {
    ttlMs,
    async create() {
      const id = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + ttlMs);
      await redis.set(key(id), String(expiresAt.getTime()), 'PX', ttlMs);
      return { id, expiresAt };
    },
    async isValid(id) {
      const value = await redis.get(key(id));
      return value !== null && Number(value) > Date.now();
    },
    async destroy(id) {
      await redis.del(key(id));
    },
  };
}

/** The key that signs session cookies, derived from API_TOKEN: changing the token ends every session. */
export function cookieSecretFor(apiToken: string): string {
  return createHmac('sha256', apiToken).update('playledger api session cookie v1').digest('base64url');
}

/** Compares a presented token with the expected one in constant time (lengths hidden by hashing both). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
