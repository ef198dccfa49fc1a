// PKCE (RFC 7636, S256) and OAuth `state` values, and the authorize URL (FACTS 19).
import { createHash, randomBytes } from 'node:crypto';

export interface PkcePair {
  /** Keep it server-side (secret until the code is exchanged); send it as `code_verifier` to the token endpoint. */
  verifier: string;
  /** base64url(sha256(verifier)): send it as `code_challenge` to /authorize. */
  challenge: string;
  method: 'S256';
}

/** 86-character verifier (64 random bytes, base64url), inside RFC 7636's 43-128 range. */
export function createPkcePair(): PkcePair {
  const verifier = randomBytes(64).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier), method: 'S256' };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** An unguessable `state` for one authorization request (32 random bytes, base64url). */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

export interface AuthorizeUrlOptions {
  accountsUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  codeChallenge: string;
  showDialog?: boolean;
}

/** GET {accounts}/authorize?client_id&response_type=code&redirect_uri&scope&state&code_challenge_method=S256&... */
export function buildAuthorizeUrl(o: AuthorizeUrlOptions): string {
  const url = new URL('/authorize', o.accountsUrl);
  url.searchParams.set('client_id', o.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', o.redirectUri);
  url.searchParams.set('scope', o.scopes.join(' '));
  url.searchParams.set('state', o.state);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('code_challenge', o.codeChallenge);
  if (o.showDialog !== undefined) url.searchParams.set('show_dialog', String(o.showDialog));
  return url.toString();
}
