// Pending logins: the OAuth state and its PKCE verifier live in Redis (verifier encrypted) for a few minutes, and a
// state can be taken exactly once (GETDEL), by whichever replica receives the callback.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { registerSecret, type SecretBox } from '@playledger/common';
import type { AuthKeys } from './keys.ts';

export interface PendingLogin {
  state: string;
  codeChallenge: string;
}

export class LoginStates {
  readonly #redis: Redis;
  readonly #keys: AuthKeys;
  readonly #box: SecretBox;
  readonly #ttlMs: number;

  constructor(deps: { redis: Redis; keys: AuthKeys; box: SecretBox; ttlMs: number }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#box = deps.box;
    this.#ttlMs = deps.ttlMs;
  }

  /** Issues a state and a PKCE verifier; returns the state and the S256 challenge for the authorize URL. */
  async issue(): Promise<PendingLogin> {
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(48).toString('base64url'); // 64 characters, RFC 7636 allows 43-128
    registerSecret(verifier);
    const sealed = this.#box.seal(verifier, `pkce:${state}`);
    await this.#redis.set(this.#keys.loginState(state), JSON.stringify(sealed), 'PX', this.#ttlMs);
    return { state, codeChallenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  /** The verifier of an issued, unexpired, unused state; null otherwise. The state is used up either way. */
  async consume(state: string): Promise<{ codeVerifier: string } | null> {
    if (state.length === 0 || state.length > 256) return null;
    const raw = await this.#redis.getdel(this.#keys.loginState(state));
    if (raw === null) return null;
    const codeVerifier = this.#box.open(JSON.parse(raw) as { keyId: string; ciphertext: string }, `pkce:${state}`);
    registerSecret(codeVerifier);
    return { codeVerifier };
  }
}
