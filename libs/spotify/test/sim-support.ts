// Helpers for tests against the simulator (tools/spotify-sim), over HTTP only: authorize a user, drive the control
// API, fetch raw bodies. Tests may import the simulator; the product never does.
import { startSimulator, type Simulator } from '@playledger/spotify-sim';
import { createPkcePair, type SpotifyClient } from '../src/index.ts';

export const SIM_CLIENT_ID = 'playledger-sim-client';
export const SIM_CLIENT_SECRET = 'playledger-sim-secret';
export const REDIRECT_URI = 'http://127.0.0.1/callback';
export const SCOPES = ['user-read-recently-played', 'user-read-private'] as const;

export { startSimulator, type Simulator };

export async function control(sim: Simulator, method: string, path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(`${sim.url}/control${path}`, init);
  const text = await res.text();
  if (res.status >= 400) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Adds a fault; returns its id. */
export async function fault(sim: Simulator, spec: Record<string, unknown>): Promise<string> {
  return ((await control(sim, 'POST', '/faults', spec)) as { id: string }).id;
}

export async function clearFaults(sim: Simulator): Promise<void> {
  await control(sim, 'DELETE', '/faults');
}

/** /authorize as `userId` (automatic consent) → the code, bound to the PKCE challenge. */
export async function authorize(
  sim: Simulator,
  client: SpotifyClient,
  userId: string,
  scopes: readonly string[] = SCOPES,
) {
  await control(sim, 'POST', '/authorize/next', { userId });
  const pkce = createPkcePair();
  const url = client.authorizeUrl({ redirectUri: REDIRECT_URI, scopes, state: 'st', codeChallenge: pkce.challenge });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize: ${res.status}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`authorize: no code in ${location}`);
  return { code, verifier: pkce.verifier };
}

/** Authorizes `userId` and exchanges the code: access and refresh tokens. */
export async function login(sim: Simulator, client: SpotifyClient, userId: string, scopes: readonly string[] = SCOPES) {
  const { code, verifier } = await authorize(sim, client, userId, scopes);
  return client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier, userId });
}

/** A raw Web API answer from the simulator: status, headers and parsed body (undefined when not JSON). */
export async function rawGet(sim: Simulator, path: string, accessToken: string | undefined) {
  const headers: Record<string, string> = accessToken ? { authorization: `Bearer ${accessToken}` } : {};
  const res = await fetch(`${sim.url}${path}`, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A raw token-endpoint answer from the simulator. */
export async function rawToken(sim: Simulator, form: Record<string, string>, secret = SIM_CLIENT_SECRET) {
  const res = await fetch(`${sim.url}/api/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${SIM_CLIENT_ID}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown };
}

export interface LedgerPlay {
  playedAt: string;
  playedAtMs: number;
  trackUri: string;
  isLocal: boolean;
  quirks: string[];
}

export async function ledger(sim: Simulator, userId: string): Promise<LedgerPlay[]> {
  return ((await control(sim, 'GET', `/users/${userId}/ledger`)) as { plays: LedgerPlay[] }).plays;
}
