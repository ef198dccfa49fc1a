// Access: every route Fastify registered (collected by an onRoute hook, so Bull Board's and the docs' routes are
// included) answers 401 without a token, with a wrong one and with an expired session; the sign-in page works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { PUBLIC_ROUTES } from '../src/app.ts';
import { SESSION_COOKIE } from '../src/lib/sessions.ts';
import { startHarness, type Harness } from './harness.ts';

const SESSION_TTL_MS = 1_500;
let h: Harness;

beforeAll(async () => {
  h = await startHarness('access', { SESSION_TTL_MS });
});
afterAll(async () => {
  await h?.close();
});

function concrete(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');
}

/** Every (method, url) pair Fastify registered, but the public ones. */
function protectedRoutes(): { method: string; url: string }[] {
  const out = new Map<string, { method: string; url: string }>();
  for (const r of h.routes) {
    if (PUBLIC_ROUTES.has(r.url)) continue;
    for (const method of [r.method].flat()) out.set(`${method} ${r.url}`, { method, url: r.url });
  }
  return [...out.values()];
}

async function signIn(): Promise<string> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token: h.token, next: '/docs' }).toString(),
  });
  expect(res.statusCode).toBe(303);
  const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
  expect(cookie).toBeDefined();
  return `${SESSION_COOKIE}=${cookie?.value}`;
}

function expect401(res: LightMyRequestResponse, method: string, url: string): void {
  expect(res.statusCode, `${method} ${url}`).toBe(401);
  if (method === 'HEAD') return;
  const body = res.json<{ error: string; message: string }>();
  expect(body.error).toBe('unauthorized');
  expect(body.message.length).toBeGreaterThan(0);
}

describe('the 401 sweep over every registered route', () => {
  it('collected the api, Bull Board and docs routes', () => {
    const urls = new Set(h.routes.map((r) => r.url));
    for (const u of ['/extractions', '/users/:id', '/dead-letters/:id/replay', '/metrics', '/openapi.json', '/logout']) {
      expect(urls, u).toContain(u);
    }
    expect([...urls].some((u) => u.startsWith('/admin/queues'))).toBe(true);
    expect([...urls].some((u) => u.startsWith('/docs'))).toBe(true);
    expect(protectedRoutes().length).toBeGreaterThan(30);
  });

  it('no token: 401 JSON on every route', async () => {
    for (const { method, url } of protectedRoutes()) {
      const res = await h.app.inject({ method: method as 'GET', url: concrete(url), headers: { accept: 'application/json' } });
      expect401(res, method, url);
    }
  });

  it('a wrong token: 401 on every route, even with a valid session beside it', async () => {
    const session = await signIn();
    for (const { method, url } of protectedRoutes()) {
      const res = await h.app.inject({
        method: method as 'GET',
        url: concrete(url),
        headers: { authorization: `Bearer ${h.token.slice(0, -1)}x`, cookie: session },
      });
      expect401(res, method, url);
    }
    const notBearer = await h.app.inject({ method: 'GET', url: '/users', headers: { authorization: `Basic ${h.token}` } });
    expect(notBearer.statusCode).toBe(401);
  });

  it('an expired session: 401 on every route', async () => {
    const session = await signIn();
    expect((await h.app.inject({ method: 'GET', url: '/users', headers: { cookie: session } })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, SESSION_TTL_MS + 300));
    for (const { method, url } of protectedRoutes()) {
      const res = await h.app.inject({ method: method as 'GET', url: concrete(url), headers: { cookie: session } });
      expect401(res, method, url);
    }
  });

  it('a forged or unsigned session cookie: 401', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/users', headers: { cookie: `${SESSION_COOKIE}=abc.def` } });
    expect(res.statusCode).toBe(401);
  });
});

describe('sign-in, sessions and public routes', () => {
  it('health and the login page need nothing', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', store: 'ok' } });
    const page = await h.app.inject({ method: 'GET', url: '/login' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<form method="post" action="/login">');
  });

  it('a browser asking for a page without a session is sent to /login', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { accept: 'text/html,*/*' } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fqueues');
  });

  it('the session cookie is HttpOnly, SameSite=Strict, signed, and opens the docs and Bull Board', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${h.token}&next=%2Fadmin%2Fqueues`,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/queues');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).not.toContain(h.token);
    const cookie = `${SESSION_COOKIE}=${res.cookies.find((c) => c.name === SESSION_COOKIE)?.value}`;
    for (const url of ['/docs', '/docs/json', '/openapi.json', '/admin/queues', '/admin/queues/api/queues', '/metrics']) {
      const r = await h.app.inject({ method: 'GET', url, headers: { cookie } });
      expect([200, 302], url).toContain(r.statusCode);
    }
  });

  it('a wrong token on the login page: 401 with the form again, no cookie', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=wrong-token',
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('not valid');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('login refuses to redirect off-site', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: h.token, next: '//evil.example/x' }).toString(),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/queues');
  });

  it('login without a token: 400 naming the field', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'next=%2F',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request', field: 'body/token' });
  });

  it('logout ends the session everywhere', async () => {
    const session = await signIn();
    const out = await h.app.inject({ method: 'POST', url: '/logout', headers: { cookie: session } });
    expect(out.statusCode).toBe(204);
    expect((await h.app.inject({ method: 'GET', url: '/users', headers: { cookie: session } })).statusCode).toBe(401);
    const browser = await signIn();
    const html = await h.app.inject({ method: 'POST', url: '/logout', headers: { cookie: browser, accept: 'text/html' } });
    expect(html.statusCode).toBe(303);
    expect(html.headers.location).toBe('/login');
  });

  it('the bearer token is accepted', async () => {
    expect((await h.call({ method: 'GET', url: '/users' })).statusCode).toBe(200);
  });
});
