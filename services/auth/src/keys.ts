// The Redis keys auth owns, all under QUEUE_PREFIX (so one prefix holds everything, also in a Redis Cluster hash tag).
import { createHash } from 'node:crypto';
import { accessTokenCacheKey } from '@playledger/common';

export interface AuthKeys {
  /** a pending login, by the hash of its state (a dump shows no usable state) */
  loginState(state: string): string;
  /** the user's cached access token (encrypted) */
  token(userId: string): string;
  /** held by the one process refreshing the user's token */
  refreshLock(userId: string): string;
  /** the last refresh failed (Spotify down or asking to wait): callers are answered from here until it passes */
  refreshBackoff(userId: string): string;
  /** how many logins were started in one window (bounds the pending logins Redis holds) */
  loginsStarted(window: number): string;
}

export function authKeys(prefix: string): AuthKeys {
  const id = (userId: string) => encodeURIComponent(userId);
  return {
    loginState: (state) => `${prefix}:auth:state:${createHash('sha256').update(state).digest('base64url')}`,
    token: (userId) => accessTokenCacheKey(prefix, userId),
    refreshLock: (userId) => `${prefix}:auth:lock:${id(userId)}`,
    refreshBackoff: (userId) => `${prefix}:auth:backoff:${id(userId)}`,
    loginsStarted: (window) => `${prefix}:auth:logins:${window}`,
  };
}
