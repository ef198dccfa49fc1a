// The small sign-in page for people: the same API_TOKEN as the API, exchanged for an HttpOnly session cookie.
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import { SESSION_COOKIE, tokenMatches, type SessionStore } from '../lib/sessions.ts';
import type { TypeBoxProvider } from '../lib/type-provider.ts';
import { errors } from '../schemas/common.ts';

export interface LoginRoutesOptions {
  apiToken: string;
  sessions: SessionStore;
}

const Html = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });
const Next = Type.String({ maxLength: 2000, description: 'where to go after signing in (a path on this site)' });

/** Only a path on this site: no scheme, no protocol-relative //host, no backslash tricks. */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/admin/queues';
  return next;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function loginPage(next: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>playledger · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}input,button{padding:.5rem}
.error{color:#b00020}</style></head>
<body><h1>playledger</h1><p>Sign in with the operators' API token.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
<label for="token">API token</label><input id="token" name="token" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button></form>
<p><a href="/docs">API docs</a> · <a href="/admin/queues">Queues</a></p></body></html>`;
}

function sendPage(reply: FastifyReply, code: 200 | 401, html: string) {
  return reply
    .code(code)
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function loginRoutes(app: FastifyInstance, options: LoginRoutesOptions): void {
  const r = app.withTypeProvider<TypeBoxProvider>();
  r.get(
    '/login',
    {
      schema: {
        tags: ['access'],
        summary: 'the sign-in page',
        querystring: Type.Object({ next: Type.Optional(Next) }),
        response: { 200: Html('the sign-in form'), ...errors(400) },
      },
    },
    async (request, reply) => {
      await sendPage(reply, 200, loginPage(safeNext(request.query.next)));
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['access'],
        summary: 'sign in with the API token (form post); sets an HttpOnly, SameSite=Strict session cookie',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 1000 }), next: Type.Optional(Next) }),
        response: {
          303: { description: 'signed in: redirected to next', type: 'null' },
          401: Html('wrong token: the form again, with the error'),
          400: errors(400)[400],
          500: errors()[500],
        },
      },
    },
    async (request, reply) => {
      const next = safeNext(request.body.next);
      if (!tokenMatches(request.body.token, options.apiToken)) {
        request.log.warn('sign-in with a wrong token');
        await sendPage(reply, 401, loginPage(next, 'That token is not valid.'));
        return;
      }
      const session = await options.sessions.create();
      request.log.info({ expiresAt: session.expiresAt }, 'signed in');
      return reply
        .setCookie(SESSION_COOKIE, session.id, {
          signed: true,
          httpOnly: true,
          sameSite: 'strict',
          secure: 'auto',
          path: '/',
          expires: session.expiresAt,
        })
        .redirect(next, 303);
    },
  );

  r.post(
    '/logout',
    {
      schema: {
        tags: ['access'],
        summary: 'end the browser session',
        response: {
          204: { description: 'signed out', type: 'null' },
          303: { description: 'signed out: redirected to the sign-in page', type: 'null' },
          ...errors(),
        },
      },
    },
    async (request, reply) => {
      const raw = request.cookies[SESSION_COOKIE];
      const unsigned = raw === undefined ? null : request.unsignCookie(raw);
      if (unsigned?.valid && unsigned.value !== null) await options.sessions.destroy(unsigned.value);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/login', 303);
      return reply.code(204).send(null);
    },
  );
}
