// Authorization codes, grants (one per user authorization: refresh tokens + six-month end) and access tokens.
import { createHash, randomBytes } from 'node:crypto';

export const CODE_TTL_MS = 10 * 60_000;
export const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
export const REFRESH_TOKEN_LIFETIME_MS = 182 * 24 * 60 * 60_000;

export type Rotation = 'off' | 'revoke-old' | 'keep-old';

export interface AuthCode {
  code: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string | null;
  expiresAtMs: number;
  used: boolean;
}

export interface Grant {
  id: string;
  userId: string;
  clientId: string;
  scope: string;
  pkce: boolean;
  authorizedAtMs: number;
  expiresAtMs: number;
  revoked: boolean;
}

export interface AccessToken {
  token: string;
  userId: string;
  clientId: string;
  scopes: Set<string>;
  issuedAtMs: number;
  expiresAtMs: number;
}

export type RefreshCheck = { ok: true; grant: Grant } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class TokenStore {
  readonly #codes = new Map<string, AuthCode>();
  readonly #grants = new Map<string, Grant>();
  /** refresh token -> grant id; a rotated-away token under 'revoke-old' is deleted. */
  readonly #refresh = new Map<string, string>();
  readonly #access = new Map<string, AccessToken>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issueCode(c: Omit<AuthCode, 'code' | 'expiresAtMs' | 'used'>): AuthCode {
    const code: AuthCode = { ...c, code: randomToken('AQ'), expiresAtMs: this.#now() + CODE_TTL_MS, used: false };
    this.#codes.set(code.code, code);
    return code;
  }

  code(code: string): AuthCode | undefined {
    return this.#codes.get(code);
  }

  /** Codes live 10 minutes. */
  codeExpired(code: AuthCode): boolean {
    return this.#now() >= code.expiresAtMs;
  }

  createGrant(userId: string, clientId: string, scope: string, pkce: boolean): { grant: Grant; refreshToken: string } {
    const now = this.#now();
    const grant: Grant = {
      id: randomToken('g'),
      userId,
      clientId,
      scope,
      pkce,
      authorizedAtMs: now,
      expiresAtMs: now + REFRESH_TOKEN_LIFETIME_MS,
      revoked: false,
    };
    this.#grants.set(grant.id, grant);
    const refreshToken = randomToken('AQ');
    this.#refresh.set(refreshToken, grant.id);
    return { grant, refreshToken };
  }

  checkRefresh(refreshToken: string): RefreshCheck {
    const grantId = this.#refresh.get(refreshToken);
    const grant = grantId === undefined ? undefined : this.#grants.get(grantId);
    if (!grant) return { ok: false, reason: 'unknown' };
    if (grant.revoked) return { ok: false, reason: 'revoked' };
    if (this.#now() >= grant.expiresAtMs) return { ok: false, reason: 'expired' };
    return { ok: true, grant };
  }

  /** The user a refresh token belongs to (even when it no longer works), for faults and counters. */
  refreshUser(refreshToken: string): string | undefined {
    const grantId = this.#refresh.get(refreshToken);
    return grantId === undefined ? undefined : this.#grants.get(grantId)?.userId;
  }

  rotate(oldToken: string, grant: Grant, rotation: Rotation): string | undefined {
    if (rotation === 'off') return undefined;
    const fresh = randomToken('AQ');
    this.#refresh.set(fresh, grant.id);
    if (rotation === 'revoke-old') this.#refresh.delete(oldToken);
    return fresh;
  }

  issueAccess(userId: string, clientId: string, scope: string): AccessToken {
    const now = this.#now();
    const token: AccessToken = {
      token: randomToken('BQ'),
      userId,
      clientId,
      scopes: new Set(scope.split(' ').filter(Boolean)),
      issuedAtMs: now,
      expiresAtMs: now + ACCESS_TOKEN_TTL_MS,
    };
    this.#access.set(token.token, token);
    return token;
  }

  /** A live access token, or undefined (unknown or expired). */
  access(token: string): AccessToken | undefined {
    const found = this.#access.get(token);
    if (!found) return undefined;
    if (this.#now() >= found.expiresAtMs) return undefined;
    return found;
  }

  /** The user an access token belongs to, even an expired one. */
  accessUser(token: string): string | undefined {
    return this.#access.get(token)?.userId;
  }

  expireAccessTokens(userId: string): number {
    let n = 0;
    const now = this.#now();
    for (const t of this.#access.values()) {
      if (t.userId === userId && t.expiresAtMs > now) {
        t.expiresAtMs = now;
        n++;
      }
    }
    return n;
  }

  endRefreshLifetime(userId: string): number {
    return this.#forGrants(userId, (g) => (g.expiresAtMs = Math.min(g.expiresAtMs, this.#now())));
  }

  revoke(userId: string): number {
    return this.#forGrants(userId, (g) => (g.revoked = true));
  }

  hasGrant(userId: string): boolean {
    for (const g of this.#grants.values()) if (g.userId === userId) return true;
    return false;
  }

  #forGrants(userId: string, change: (g: Grant) => void): number {
    let n = 0;
    for (const g of this.#grants.values()) {
      if (g.userId === userId) {
        change(g);
        n++;
      }
    }
    return n;
  }
}
