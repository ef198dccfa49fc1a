// GET /login sends the browser to Spotify with a state and a PKCE challenge; GET /callback completes the login.
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { errorKind, registerSecret, type Logger } from '@playledger/common';
import type { AuthCore } from '../core.ts';
import { pages, type Page } from '../pages.ts';
import { registerLogin } from '../registration.ts';
import { SCOPES } from '../spotify-port.ts';
import type { Clock } from '../clock.ts';
import { loginCookieName } from '../login-states.ts';

export interface LoginRouteOptions {
  core: AuthCore;
  accountsUrl: string;
  clientId: string;
  urls: () => { redirectUri: string; publicBase: string };
  clock: Clock;
  logger: Logger;
}

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 512 })),
  error_description: Type.Optional(Type.String({ maxLength: 2048 })),
});

function send(reply: FastifyReply, page: Page): FastifyReply {
  return reply
    .code(page.status)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(page.html);
}

export function registerLoginRoutes(app: FastifyInstance, o: LoginRouteOptions): void {
  const loginUrl = () => `${o.urls().publicBase}/login`;

  app.get('/login', async (_request, reply) => {
    const pending = await o.core.states.issue();
    if (!pending) {
      o.logger.warn('login refused: too many logins started lately (LOGIN_MAX_PER_WINDOW)');
      return send(reply, pages.busy());
    }
    const { state, codeChallenge, binding } = pending;
    o.logger.debug('login started: state and PKCE verifier kept for the callback');
    const url = new URL('/authorize', o.accountsUrl);
    url.search = new URLSearchParams({
      client_id: o.clientId,
      response_type: 'code',
      redirect_uri: o.urls().redirectUri,
      scope: SCOPES.join(' '),
      state,
      code_challenge_method: 'S256',
      code_challenge: codeChallenge,
    }).toString();
    const secure = o.urls().redirectUri.startsWith('https:') ? '; Secure' : '';
    const maxAge = Math.ceil(o.core.states.ttlMs / 1000);
    return reply
      .header('cache-control', 'no-store')
      .header('set-cookie', `${loginCookieName(state)}=${binding}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`)
      .redirect(url.toString(), 302);
  });

  app.get<{ Querystring: Static<typeof CallbackQuery> }>(
    '/callback',
    { schema: { querystring: CallbackQuery } },
    async (request, reply) => {
      const { code, state, error } = request.query;
      registerSecret(code);
      if (!state) return send(reply, pages.stateMissing(loginUrl()));
      const cookie = loginCookieName(state);
      reply.header('set-cookie', `${cookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
      const pending = await o.core.states.consume(state, readCookie(request.headers.cookie, cookie));
      if (pending.outcome === 'unknown-state') {
        o.logger.info('login callback with an unknown, expired or used state: refused');
        return send(reply, pages.stateInvalid(loginUrl()));
      }
      if (pending.outcome === 'other-browser') {
        o.logger.info('login callback from a browser that did not start this login: refused');
        return send(reply, pages.otherBrowser(loginUrl()));
      }
      o.logger.debug('login callback: state accepted');
      if (error !== undefined) {
        o.logger.info({ spotifyError: error }, 'login not completed: Spotify reported an error');
        return send(reply, error === 'access_denied' ? pages.denied(loginUrl()) : pages.spotifyError(loginUrl(), error));
      }
      if (!code) return send(reply, pages.codeRejected(loginUrl()));
      return send(reply, await completeLogin(o, code, pending.codeVerifier, loginUrl()));
    },
  );
}

/** Exchanges the code and registers the user; the page says what happened, told apart by where it failed. */
async function completeLogin(o: LoginRouteOptions, code: string, codeVerifier: string, loginUrl: string): Promise<Page> {
  const { spotify } = o.core.registration;
  let grant;
  try {
    grant = await spotify.exchangeCode({ code, redirectUri: o.urls().redirectUri, codeVerifier });
  } catch (err) {
    const kind = errorKind(err);
    o.logger.warn({ err, kind }, 'login not completed: the code exchange failed');
    return kind === 'permanent' || kind === 'reauth-required' ? pages.codeRejected(loginUrl) : pages.unavailable(loginUrl);
  }
  if (grant.refreshToken === null) {
    o.logger.error('login not completed: Spotify returned no refresh token for an authorization code');
    return pages.failed(loginUrl);
  }
  try {
    const user = await registerLogin(o.core.registration, { ...grant, refreshToken: grant.refreshToken }, o.clock.now());
    return pages.success(user.displayName, user.status === 'paused');
  } catch (err) {
    const kind = errorKind(err);
    o.logger.warn({ err, kind }, 'login not completed: reading the profile or storing the user failed');
    // a permanent answer to /v1/me is Spotify's 403: in development mode, the user is not on the app's allow-list
    return kind === 'permanent' ? pages.notAllowed(loginUrl) : pages.unavailable(loginUrl);
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
