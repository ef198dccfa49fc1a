// Hands out access tokens: from the shared cache when it holds a good one, else by one refresh per user across all
// replicas (a Redis lock; the others wait for the cache to fill). A refresh Spotify refuses with invalid_grant marks
// the user needs_reauth and removes their schedule, so nobody asks again until they log in.
import type { Queue } from 'bullmq';
import {
  ReauthRequiredError,
  TransientError,
  registerSecret,
  unscheduleUser,
  type Logger,
  type Metrics,
  type SecretBox,
} from '@playledger/common';
import type { Store } from '@playledger/store';
import type { SpotifyAccounts } from './spotify-port.ts';
import type { CachedToken, TokenCache } from './token-cache.ts';
import type { RefreshLocks } from './refresh-lock.ts';
import type { RefreshBackoff } from './refresh-backoff.ts';

export class UnknownUserError extends Error {
  override readonly name = 'UnknownUserError';
}

export interface TokenServiceDeps {
  store: Store;
  spotify: SpotifyAccounts;
  cache: TokenCache;
  locks: RefreshLocks;
  backoff: RefreshBackoff;
  box: SecretBox;
  extractions: Queue;
  metrics: Metrics;
  logger: Logger;
  /** how long a request waits for another replica's refresh before answering "unavailable" */
  waitMs: number;
  pollMs?: number;
}

export function refreshTokenContext(userId: string): string {
  return `refresh:${userId}`;
}

export class TokenService {
  readonly #d: TokenServiceDeps;

  constructor(deps: TokenServiceDeps) {
    this.#d = deps;
  }

  /**
   * A token with a few minutes to live. With `rejectedToken` (Spotify answered 401 to it), a refresh happens only if
   * the cache still holds that very token; a caller whose token was already replaced gets the new one.
   */
  async getAccessToken(userId: string, rejectedToken?: string): Promise<CachedToken> {
    registerSecret(rejectedToken);
    await this.#activeUser(userId);
    const usable = (t: CachedToken | null): t is CachedToken => t !== null && t.accessToken !== rejectedToken;
    const deadline = Date.now() + this.#d.waitMs;
    for (;;) {
      const cached = await this.#d.cache.get(userId);
      if (usable(cached)) return cached;
      await this.#d.backoff.check(userId);
      const lock = await this.#d.locks.tryAcquire(userId);
      if (lock) {
        try {
          const again = await this.#d.cache.get(userId);
          if (usable(again)) return again;
          await this.#d.backoff.check(userId);
          return await this.#refresh(userId);
        } finally {
          await lock.release();
        }
      }
      if (Date.now() > deadline) throw new TransientError(`a token refresh for user ${userId} is taking too long`);
      await new Promise((resolve) => setTimeout(resolve, this.#d.pollMs ?? 50));
    }
  }

  /** Refreshes under the lock: the user's state is read again, since a replica may just have marked needs_reauth. */
  async #refresh(userId: string): Promise<CachedToken> {
    const { store, spotify, box, cache, metrics } = this.#d;
    const logger = this.#d.logger.child({ userId });
    await this.#activeUser(userId);
    const credentials = await store.getCredentials(userId);
    if (!credentials) throw new ReauthRequiredError(userId, 'no refresh token is stored for this user: log in again');
    const refreshToken = box.open(credentials.refreshToken, refreshTokenContext(userId));
    registerSecret(refreshToken);
    logger.debug('refreshing the access token');
    let grant;
    try {
      grant = await spotify.refresh(refreshToken);
    } catch (error) {
      if (error instanceof ReauthRequiredError) {
        metrics.tokenRefreshes.inc({ outcome: 'invalid_grant' });
        await this.markNeedsReauth(userId, error.message);
        throw new ReauthRequiredError(userId, error.message, { cause: error });
      }
      metrics.tokenRefreshes.inc({ outcome: 'failed' });
      await this.#d.backoff.remember(userId, error);
      throw error;
    }
    registerSecret(grant.accessToken);
    registerSecret(grant.refreshToken);
    const rotated = grant.refreshToken !== null && grant.refreshToken !== refreshToken;
    if (rotated && grant.refreshToken !== null) {
      await store.updateRefreshToken(userId, box.seal(grant.refreshToken, refreshTokenContext(userId)));
    }
    const token = { accessToken: grant.accessToken, expiresAt: grant.expiresAt };
    await cache.put(userId, token);
    await this.#d.backoff.clear(userId);
    metrics.tokenRefreshes.inc({ outcome: rotated ? 'rotated' : 'ok' });
    logger.info({ rotated, expiresAt: grant.expiresAt.toISOString() }, 'access token refreshed');
    return token;
  }

  async markNeedsReauth(userId: string, reason: string): Promise<void> {
    await this.#d.store.setUserStatus(userId, 'needs_reauth', reason);
    await unscheduleUser(this.#d.extractions, userId);
    await this.#d.cache.delete(userId);
    this.#d.logger.warn({ userId, reason }, 'user must log in again; schedule removed');
  }

  async #activeUser(userId: string): Promise<void> {
    const user = await this.#d.store.getUser(userId);
    if (!user) throw new UnknownUserError(`unknown user ${userId}`);
    if (user.status === 'needs_reauth') {
      throw new ReauthRequiredError(userId, `user must log in again${user.statusReason ? ` (${user.statusReason})` : ''}`);
    }
    if (user.status === 'paused') throw new ReauthRequiredError(userId, 'user is paused by an operator');
  }
}
