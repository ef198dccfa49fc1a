// Pending logins: the OAuth state and its PKCE verifier live in Redis (verifier encrypted) for a few minutes, and a
// state can be taken exactly once (GETDEL), by whichever replica receives the callback. Each login is also bound to
// the browser that started it (RFC 6749 §10.12): a random value goes to that browser in a cookie, and only its hash
// is kept beside the verifier.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { registerSecret, type SealedValue, type SecretBox } from '@playledger/common';
import type { AuthKeys } from './keys.ts';

export interface PendingLogin {
  state: string;
  codeChallenge: string;
  /** for the browser's cookie (see loginCookieName) */
  binding: string;
}

export type ConsumedLogin =
  | { outcome: 'ok'; codeVerifier: string }
  /** no such state: never issued, expired, or used already */
  | { outcome: 'unknown-state' }
  /** the state is real but this browser did not start the login (or blocks cookies) */
  | { outcome: 'other-browser' };

interface StoredLogin {
  verifier: SealedValue;
  /** base64url sha256 of the browser binding */
  binding: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** One cookie per pending login, so two logins started in two tabs do not overwrite each other. */
export function loginCookieName(state: string): string {
  return `pl_login_${sha256(state).toString('base64url').slice(0, 12).replace(/[^A-Za-z0-9]/g, '_')}`;
}

export class LoginStates {
  readonly #redis: Redis;
  readonly #keys: AuthKeys;
  readonly #box: SecretBox;
  readonly ttlMs: number;
  readonly #maxPerWindow: number;

  constructor(deps: { redis: Redis; keys: AuthKeys; box: SecretBox; ttlMs: number; maxPerWindow: number }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#box = deps.box;
    this.ttlMs = deps.ttlMs;
    this.#maxPerWindow = deps.maxPerWindow;
  }

  /**
   * Issues a state, a PKCE verifier and a browser binding; returns what the browser and the authorize URL need, or
   * null when too many logins were started lately (Redis runs with noeviction: pending logins must stay bounded).
   */
  async issue(): Promise<PendingLogin | null> {
    const window = Math.floor(Date.now() / this.ttlMs);
    const counter = this.#keys.loginsStarted(window);
    const [[, started]] = (await this.#redis.multi().incr(counter).pexpire(counter, 2 * this.ttlMs).exec()) as [[unknown, number]];
    if (started > this.#maxPerWindow) return null;
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(48).toString('base64url'); // 64 characters, RFC 7636 allows 43-128
    const binding = randomBytes(32).toString('base64url');
    registerSecret(verifier);
    registerSecret(binding);
    const stored: StoredLogin = {
      verifier: this.#box.seal(verifier, `pkce:${state}`),
      binding: sha256(binding).toString('base64url'),
    };
    await this.#redis.set(this.#keys.loginState(state), JSON.stringify(stored), 'PX', this.ttlMs);
    return { state, codeChallenge: sha256(verifier).toString('base64url'), binding };
  }

  /** Takes the pending login of `state` (used up whatever the outcome) and checks the browser's binding. */
  async consume(state: string, binding: string | undefined): Promise<ConsumedLogin> {
    if (state.length === 0 || state.length > 256) return { outcome: 'unknown-state' };
    const raw = await this.#redis.getdel(this.#keys.loginState(state));
    if (raw === null) return { outcome: 'unknown-state' };
    const stored = JSON.parse(raw) as StoredLogin;
    const expected = Buffer.from(stored.binding, 'base64url');
    if (!binding || !timingSafeEqual(sha256(binding), expected)) return { outcome: 'other-browser' };
    const codeVerifier = this.#box.open(stored.verifier, `pkce:${state}`);
    registerSecret(codeVerifier);
    return { outcome: 'ok', codeVerifier };
  }
}
