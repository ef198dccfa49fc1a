/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any --
   Tests read Spotify-shaped JSON as it comes over the wire; asserting on it is the point. */
// Test helpers: start a simulator, run the authorization-code flow with PKCE over HTTP, call the Web API.
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_APP, startSimulator, type Simulator, type SimulatorOptions } from '../src/index.ts';

export const CLIENT = DEFAULT_APP;
export const REDIRECT = 'http://127.0.0.1:8081/callback';
export const SCOPE = 'user-read-recently-played user-read-private';

export async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ seed: 'test', users: 3, ...options });
}

export function basic(id = CLIENT.clientId, secret = CLIENT.clientSecret): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function control(sim: Simulator, method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (sim.controlToken !== undefined) headers['x-sim-control-token'] = sim.controlToken;
  const res = await fetch(`${sim.url}/control${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** GET /authorize; returns the redirect Location as a URL. */
export async function authorize(
  sim: Simulator,
  params: Record<string, string> = {},
): Promise<{ status: number; location: URL | null; text: string }> {
  const q = new URLSearchParams({
    client_id: CLIENT.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: 'st-1',
    ...params,
  });
  const res = await fetch(`${sim.url}/authorize?${q.toString()}`, { redirect: 'manual' });
  const loc = res.headers.get('location');
  return { status: res.status, location: loc === null ? null : new URL(loc), text: await res.text() };
}

export async function token(
  sim: Simulator,
  form: Record<string, string>,
  authorization?: string,
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${sim.url}/api/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Full login (Basic + PKCE) for the next consenting user (or `userId`). */
export async function login(
  sim: Simulator,
  userId?: string,
): Promise<{ accessToken: string; refreshToken: string; userId: string }> {
  if (userId !== undefined) await control(sim, 'POST', '/authorize/next', { userId });
  const { verifier, challenge } = pkcePair();
  const auth = await authorize(sim, { code_challenge_method: 'S256', code_challenge: challenge });
  const code = auth.location?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${auth.status} ${auth.location?.toString()}`);
  const res = await token(
    sim,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
    basic(),
  );
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  const me = await api(sim, res.body.access_token, '/v1/me');
  return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token, userId: me.body.id };
}

export async function api(
  sim: Simulator,
  accessToken: string | undefined,
  path: string,
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
  const res = await fetch(`${sim.url}${path}`, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

export const HOUR = 60 * 60_000;
