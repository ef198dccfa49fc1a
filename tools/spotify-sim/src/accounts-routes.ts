// The accounts side: GET /authorize (automatic consent) and POST /api/token, as strict as Spotify.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SimState } from './state.ts';
import { redirectUriAllowed } from './apps.ts';
import { delay, oauthError, sendFault } from './responses.ts';
import { s256, type Grant } from './tokens.ts';

type Query = Record<string, string | undefined>;

function redirectTo(reply: FastifyReply, base: string, params: Record<string, string | undefined>): FastifyReply {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return reply.redirect(url.toString(), 302);
}

function basicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function accountsRoutes(app: FastifyInstance, state: SimState): void {
  app.get('/authorize', (request, reply) => {
    const q = request.query as Query;
    const consented = authorize(state, q, reply);
    state.calls.count('authorize', consented);
    return reply;
  });

  app.post('/api/token', async (request, reply) => {
    const form = isForm(request.headers['content-type']) ? ((request.body ?? {}) as Query) : {};
    const userId = tokenUser(state, form);
    state.calls.count('token', userId);
    for (const who of userId === undefined ? [undefined] : [undefined, userId]) {
      const { delayMs, fault } = state.faults.take('token', who);
      await delay(delayMs);
      if (fault) return sendFault(reply, fault, 'accounts');
    }
    const grantType = form.grant_type;
    if (grantType === undefined)
      return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type parameter is missing');
    if (grantType === 'authorization_code') return exchangeCode(state, form, request.headers.authorization, reply);
    if (grantType === 'refresh_token') return refresh(state, form, request.headers.authorization, reply);
    return oauthError(
      reply,
      400,
      'unsupported_grant_type',
      'grant_type must be client_credentials, authorization_code or refresh_token',
    );
  });
}

/** Answers /authorize; returns the user who consented, if any. */
function authorize(state: SimState, q: Query, reply: FastifyReply): string | undefined {
  const client = q.client_id === undefined ? undefined : state.apps.get(q.client_id);
  if (!client) {
    reply.code(400).type('text/plain').send('INVALID_CLIENT: Invalid client');
    return undefined;
  }
  if (q.redirect_uri === undefined || !redirectUriAllowed(client, q.redirect_uri)) {
    reply.code(400).type('text/plain').send('INVALID_CLIENT: Invalid redirect URI');
    return undefined;
  }
  const redirectUri = q.redirect_uri;
  if (q.response_type !== 'code') {
    redirectTo(reply, redirectUri, { error: 'unsupported_response_type', state: q.state });
    return undefined;
  }
  const method = q.code_challenge_method;
  if ((method !== undefined && method !== 'S256') || (method !== undefined) !== (q.code_challenge !== undefined)) {
    redirectTo(reply, redirectUri, { error: 'invalid_request', state: q.state });
    return undefined;
  }
  const consent = state.nextConsent();
  if ('deny' in consent) {
    redirectTo(reply, redirectUri, { error: 'access_denied', state: q.state });
    return undefined;
  }
  const user = state.users.get(consent.userId) ?? state.addUser({ id: consent.userId });
  user.consented = true;
  const code = state.tokens.issueCode({
    clientId: client.clientId,
    userId: user.id,
    redirectUri,
    scope: q.scope ?? '',
    codeChallenge: q.code_challenge ?? null,
  });
  redirectTo(reply, redirectUri, { code: code.code, state: q.state });
  return user.id;
}

function isForm(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') ?? false;
}

function tokenUser(state: SimState, form: Query): string | undefined {
  if (form.grant_type === 'authorization_code' && form.code !== undefined) return state.tokens.code(form.code)?.userId;
  if (form.grant_type === 'refresh_token' && form.refresh_token !== undefined) {
    return state.tokens.refreshUser(form.refresh_token);
  }
  return undefined;
}

type ClientCheck = { ok: true; clientId: string; authenticated: boolean } | { ok: false; description: string };

/** Basic client auth when a header is sent; otherwise a known body client_id (public/PKCE client). */
function checkClient(state: SimState, form: Query, authorization: string | undefined): ClientCheck {
  if (authorization !== undefined) {
    const basic = basicAuth(authorization);
    const client = basic === undefined ? undefined : state.apps.get(basic.id);
    if (!basic || !client) return { ok: false, description: 'Invalid client' };
    if (client.clientSecret !== basic.secret) return { ok: false, description: 'Invalid client secret' };
    if (form.client_id !== undefined && form.client_id !== basic.id)
      return { ok: false, description: 'Invalid client' };
    return { ok: true, clientId: client.clientId, authenticated: true };
  }
  if (form.client_id === undefined || !state.apps.has(form.client_id))
    return { ok: false, description: 'Invalid client' };
  return { ok: true, clientId: form.client_id, authenticated: false };
}

function tokenBody(accessToken: string, scope: string, refreshToken?: string): Record<string, string | number> {
  const body: Record<string, string | number> = {
    access_token: accessToken,
    token_type: 'Bearer',
    scope,
    expires_in: 3600,
  };
  if (refreshToken !== undefined) body.refresh_token = refreshToken;
  return body;
}

function exchangeCode(
  state: SimState,
  form: Query,
  authorization: string | undefined,
  reply: FastifyReply,
): FastifyReply {
  const client = checkClient(state, form, authorization);
  if (!client.ok) return oauthError(reply, 400, 'invalid_client', client.description);
  const code = form.code === undefined ? undefined : state.tokens.code(form.code);
  if (!code || code.used || code.clientId !== client.clientId) {
    return oauthError(reply, 400, 'invalid_grant', 'Invalid authorization code');
  }
  if (state.tokens.codeExpired(code)) return oauthError(reply, 400, 'invalid_grant', 'Authorization code expired');
  if (form.redirect_uri !== code.redirectUri) return oauthError(reply, 400, 'invalid_grant', 'Invalid redirect URI');
  if (code.codeChallenge !== null) {
    if (form.code_verifier === undefined || s256(form.code_verifier) !== code.codeChallenge) {
      return oauthError(reply, 400, 'invalid_grant', 'code_verifier was incorrect');
    }
  } else if (!client.authenticated) {
    return oauthError(reply, 400, 'invalid_client', 'Invalid client');
  }
  code.used = true;
  const { refreshToken } = state.tokens.createGrant(
    code.userId,
    code.clientId,
    code.scope,
    code.codeChallenge !== null,
  );
  const access = state.tokens.issueAccess(code.userId, code.clientId, code.scope);
  return reply.code(200).send(tokenBody(access.token, code.scope, refreshToken));
}

function refresh(state: SimState, form: Query, authorization: string | undefined, reply: FastifyReply): FastifyReply {
  const client = checkClient(state, form, authorization);
  if (!client.ok) return oauthError(reply, 400, 'invalid_client', client.description);
  if (form.refresh_token === undefined)
    return oauthError(reply, 400, 'invalid_request', 'refresh_token must be supplied');
  const check = state.tokens.checkRefresh(form.refresh_token);
  if (!check.ok) {
    const description =
      check.reason === 'revoked'
        ? 'Refresh token revoked'
        : check.reason === 'expired'
          ? 'Refresh token expired'
          : 'Invalid refresh token';
    return oauthError(reply, 400, 'invalid_grant', description);
  }
  const grant: Grant = check.grant;
  if (grant.clientId !== client.clientId || (!client.authenticated && !grant.pkce)) {
    return oauthError(reply, 400, 'invalid_grant', 'Invalid refresh token');
  }
  const user = state.users.get(grant.userId);
  const rotated = state.tokens.rotate(form.refresh_token, grant, user?.rotateRefreshTokens ?? 'off');
  const access = state.tokens.issueAccess(grant.userId, grant.clientId, grant.scope);
  return reply.code(200).send(tokenBody(access.token, grant.scope, rotated));
}
