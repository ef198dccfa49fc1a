// Access control for every route: a Bearer API_TOKEN (API clients) or a session cookie (a person in a browser).
// Installed as an onRequest hook before any route is registered, so Bull Board's and the docs' routes are covered.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, tokenMatches, type SessionStore } from '../lib/sessions.ts';

export interface AccessOptions {
  apiToken: string;
  sessions: SessionStore;
  /** route URLs (as registered) anyone may call */
  publicRoutes: ReadonlySet<string>;
}

export type Credential = 'bearer' | 'session' | 'none' | 'invalid';

/** Which credential the request carries and whether it holds. A wrong bearer token is never rescued by a cookie. */
export async function credentialOf(request: FastifyRequest, options: AccessOptions): Promise<Credential> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] !== undefined && tokenMatches(match[1], options.apiToken) ? 'bearer' : 'invalid';
  }
  const raw = request.cookies[SESSION_COOKIE];
  if (raw === undefined) return 'none';
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return 'invalid';
  return (await options.sessions.isValid(unsigned.value)) ? 'session' : 'invalid';
}

export function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

export function installAccessHook(app: FastifyInstance, options: AccessOptions): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.routeOptions.url;
    if (url !== undefined && options.publicRoutes.has(url)) return;
    const credential = await credentialOf(request, options);
    if (credential === 'bearer' || credential === 'session') return;
    if (wantsHtml(request)) {
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 302);
    }
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="playledger"')
      .send({
        error: 'unauthorized',
        message:
          credential === 'none'
            ? 'send Authorization: Bearer <API_TOKEN>, or sign in at /login'
            : 'the token or session is not valid (a session expires; sign in again at /login)',
      });
  });
}
