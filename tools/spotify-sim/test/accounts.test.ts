/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   Tests read Spotify-shaped JSON as it comes over the wire; asserting on it is the point. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { CLIENT, REDIRECT, api, authorize, basic, control, login, pkcePair, start, token } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start({ users: 2 });
});
afterAll(async () => {
  await sim.close();
});

async function codeFor(params: Record<string, string> = {}): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const res = await authorize(sim, { code_challenge_method: 'S256', code_challenge: challenge, ...params });
  const code = res.location?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${res.status}`);
  return { code, verifier };
}

describe('/authorize', () => {
  it('consents automatically, echoes state, picks the queued user, and denies on request', async () => {
    await control(sim, 'POST', '/authorize/next', { userId: 'sim-user-2' });
    const ok = await authorize(sim);
    expect(ok.status).toBe(302);
    expect(ok.location?.origin + (ok.location?.pathname ?? '')).toBe(REDIRECT);
    expect(ok.location?.searchParams.get('state')).toBe('st-1');
    const code = ok.location?.searchParams.get('code') ?? '';
    const res = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, basic());
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access_token', 'token_type', 'scope', 'expires_in', 'refresh_token']);
    expect(res.body.expires_in).toBe(3600);
    expect((await api(sim, res.body.access_token, '/v1/me')).body.id).toBe('sim-user-2');

    await control(sim, 'POST', '/authorize/next', { deny: true });
    const denied = await authorize(sim);
    expect(denied.location?.searchParams.get('error')).toBe('access_denied');
    expect(denied.location?.searchParams.get('state')).toBe('st-1');
    expect(denied.location?.searchParams.has('code')).toBe(false);
  });

  it('refuses an unknown client or an unregistered redirect URI without redirecting', async () => {
    expect((await authorize(sim, { client_id: 'nope' })).status).toBe(400);
    const bad = await authorize(sim, { redirect_uri: 'http://127.0.0.1:8081/other' });
    expect(bad.status).toBe(400);
    expect(bad.location).toBeNull();
    // a port-less registered loopback URI matches any port (RFC 8252)
    expect((await authorize(sim, { redirect_uri: 'http://127.0.0.1:39999/callback' })).status).toBe(302);
    const plain = await authorize(sim, { code_challenge_method: 'plain', code_challenge: 'x' });
    expect(plain.location?.searchParams.get('error')).toBe('invalid_request');
  });
});

describe('/api/token', () => {
  it('makes a code single-use', async () => {
    const { code, verifier } = await codeFor();
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
    expect((await token(sim, form, basic())).status).toBe(200);
    const again = await token(sim, form, basic());
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
  });

  it('refuses a wrong code_verifier, a missing one, a wrong secret, an unknown client, a redirect mismatch', async () => {
    const { code, verifier } = await codeFor();
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
    const wrongVerifier = await token(sim, { ...form, code_verifier: `${verifier}x` }, basic());
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body.error).toBe('invalid_grant');
    expect((await token(sim, form, basic())).body.error).toBe('invalid_grant');
    const wrongSecret = await token(sim, { ...form, code_verifier: verifier }, basic(CLIENT.clientId, 'wrong'));
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body).toEqual({ error: 'invalid_client', error_description: 'Invalid client secret' });
    expect((await token(sim, { ...form, code_verifier: verifier }, basic('other', 'x'))).body.error).toBe(
      'invalid_client',
    );
    const mismatch = await token(
      sim,
      { ...form, redirect_uri: 'http://localhost:8081/callback', code_verifier: verifier },
      basic(),
    );
    expect(mismatch.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect URI' });
    // none of the refusals used the code up
    expect((await token(sim, { ...form, code_verifier: verifier }, basic())).status).toBe(200);
  });

  it('accepts PKCE with client_id and no secret; refuses a code without challenge and without client auth', async () => {
    const { code, verifier } = await codeFor();
    const pkce = await token(sim, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT.clientId,
      code_verifier: verifier,
    });
    expect(pkce.status).toBe(200);
    const plain = await authorize(sim);
    const plainCode = plain.location?.searchParams.get('code') ?? '';
    const noAuth = await token(sim, {
      grant_type: 'authorization_code',
      code: plainCode,
      redirect_uri: REDIRECT,
      client_id: CLIENT.clientId,
    });
    expect(noAuth.body.error).toBe('invalid_client');
  });

  it('answers grant_type errors and ignores a non-form body', async () => {
    expect((await token(sim, {})).body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type parameter is missing',
    });
    expect((await token(sim, { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    const json = await fetch(`${sim.url}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic() },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });

  it('refreshes without returning a refresh_token, then rotates (revoke-old and keep-old) on request', async () => {
    const session = await login(sim);
    const plain = await token(sim, { grant_type: 'refresh_token', refresh_token: session.refreshToken }, basic());
    expect(plain.status).toBe(200);
    expect(Object.keys(plain.body)).toEqual(['access_token', 'token_type', 'scope', 'expires_in']);
    expect((await api(sim, plain.body.access_token, '/v1/me')).status).toBe(200);

    await control(sim, 'PATCH', `/users/${session.userId}`, { rotateRefreshTokens: 'revoke-old' });
    const rotated = await token(sim, { grant_type: 'refresh_token', refresh_token: session.refreshToken }, basic());
    expect(typeof rotated.body.refresh_token).toBe('string');
    const old = await token(sim, { grant_type: 'refresh_token', refresh_token: session.refreshToken }, basic());
    expect(old.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });

    await control(sim, 'PATCH', `/users/${session.userId}`, { rotateRefreshTokens: 'keep-old' });
    const kept = await token(sim, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token }, basic());
    expect(kept.body.refresh_token).not.toBe(rotated.body.refresh_token);
    const stillValid = await token(
      sim,
      { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token },
      basic(),
    );
    expect(stillValid.status).toBe(200);
    await control(sim, 'PATCH', `/users/${session.userId}`, { rotateRefreshTokens: 'off' });
  });

  it('refuses a refresh with a wrong secret, a missing token, after the six-month end and after a revoke', async () => {
    const a = await login(sim);
    const form = { grant_type: 'refresh_token', refresh_token: a.refreshToken };
    expect((await token(sim, form, basic(CLIENT.clientId, 'bad'))).body.error).toBe('invalid_client');
    expect((await token(sim, { grant_type: 'refresh_token' }, basic())).body.error).toBe('invalid_request');
    await control(sim, 'POST', `/users/${a.userId}/expire-refresh-tokens`);
    const expired = await token(sim, form, basic());
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token expired' });
    // a new authorization starts a new lifetime
    const b = await login(sim, a.userId);
    expect((await token(sim, { grant_type: 'refresh_token', refresh_token: b.refreshToken }, basic())).status).toBe(
      200,
    );
    await control(sim, 'POST', `/users/${a.userId}/revoke`);
    const revoked = await token(sim, { grant_type: 'refresh_token', refresh_token: b.refreshToken }, basic());
    expect(revoked.body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
  });

  it('expires current access tokens on request (401), and a refreshed token works', async () => {
    const s = await login(sim);
    await control(sim, 'POST', `/users/${s.userId}/expire-access-tokens`);
    const res = await api(sim, s.accessToken, '/v1/me');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { status: 401, message: 'Missing/invalid/expired access token' } });
    const fresh = await token(sim, { grant_type: 'refresh_token', refresh_token: s.refreshToken }, basic());
    expect((await api(sim, fresh.body.access_token, '/v1/me')).status).toBe(200);
  });
});
