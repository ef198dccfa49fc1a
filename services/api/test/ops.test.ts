// Metrics, readiness, the OpenAPI document and the error handler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@playledger/common';
import { buildApp, PUBLIC_ROUTES } from '../src/app.ts';
import { seedPlays, seedUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('ops');
  await seedUser(h.store, 'mia');
  await seedUser(h.store, 'ned', { status: 'needs_reauth', reason: 'invalid_grant' });
  const old = new Date();
  old.setUTCMonth(old.getUTCMonth() - 6);
  await seedUser(h.store, 'oli', { authorizedAt: new Date(old.getTime() + 5 * 86_400_000) });
  await seedPlays(h.store, 'mia', 5);
  await h.call({ method: 'POST', url: '/extractions', payload: { userId: 'oli' } });
});
afterAll(async () => {
  await h?.close();
});

describe('/metrics', () => {
  it('samples queue jobs per state, users needing reauth or expiring, and time since the last good extraction', async () => {
    const res = await h.call({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    for (const queue of ['extractions', 'validation', 'load', 'dead-letters']) {
      expect(text).toMatch(new RegExp(`playledger_queue_jobs\\{[^}]*queue="${queue}"[^}]*state="waiting"[^}]*\\} \\d+`));
    }
    expect(text).toMatch(/playledger_queue_jobs\{[^}]*queue="extractions"[^}]*state="waiting"[^}]*\} 1/);
    expect(text).toMatch(/playledger_users_needs_reauth\{[^}]*\} 1/);
    expect(text).toMatch(/playledger_users_refresh_token_expiring\{[^}]*\} 1/);
    expect(text).toMatch(/playledger_seconds_since_last_successful_extraction\{[^}]*user="mia"[^}]*\} \d/);
    expect(text).not.toMatch(/playledger_seconds_since_last_successful_extraction\{[^}]*user="oli"/);
    expect(text).toContain('service="api"');
  });
});

describe('OpenAPI document and docs', () => {
  it('/openapi.json declares every api route with its params and every response code', async () => {
    const res = await h.call({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>> }>();
    expect(doc.openapi).toBe('3.0.3');
    const expected = [
      ['post', '/extractions'],
      ['get', '/extractions'],
      ['get', '/extractions/{id}'],
      ['get', '/users'],
      ['get', '/users/expiring'],
      ['get', '/users/{id}'],
      ['post', '/users/{id}/pause'],
      ['post', '/users/{id}/resume'],
      ['delete', '/users/{id}'],
      ['get', '/users/{id}/plays'],
      ['get', '/users/{id}/plays/export'],
      ['get', '/users/{id}/gaps'],
      ['get', '/gaps'],
      ['get', '/dead-letters'],
      ['get', '/dead-letters/{id}'],
      ['put', '/dead-letters/{id}/correction'],
      ['post', '/dead-letters/{id}/replay'],
      ['post', '/dead-letters/replay'],
      ['delete', '/dead-letters/{id}'],
      ['get', '/login'],
      ['post', '/login'],
      ['post', '/logout'],
      ['get', '/healthz'],
      ['get', '/readyz'],
      ['get', '/metrics'],
    ] as const;
    for (const [method, path] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      const codes = Object.keys(op!.responses);
      expect(codes.some((c) => c.startsWith('2') || c.startsWith('3')), `${method} ${path}`).toBe(true);
      expect(codes, `${method} ${path}`).toContain('500');
      if (path.includes('{id}')) {
        expect(codes, `${method} ${path}`).toContain('404');
        expect(op!.parameters?.map((p) => p.name), `${method} ${path}`).toContain('id');
      }
      if (!PUBLIC_ROUTES.has(path)) expect(codes, `${method} ${path}`).toContain('401');
    }
    expect(Object.keys(doc.paths['/readyz']?.get?.responses ?? {})).toContain('503');
    expect(doc.paths['/dead-letters']?.get?.parameters?.map((p) => p.name).sort()).toEqual(
      ['cursor', 'from', 'limit', 'rule', 'stage', 'status', 'to', 'userId'].sort(),
    );
  });

  it('/docs serves Swagger UI', async () => {
    const res = await h.call({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger-ui');
  });

  it('unknown routes: 404 JSON once signed in', async () => {
    const res = await h.call({ method: 'GET', url: '/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('failures', () => {
  it('a 500 hides its details; /readyz says which dependency is down', async () => {
    const secret = 'password=hunter2 at db.internal:5432';
    const broken = new Proxy(h.store, {
      get(target, property, receiver) {
        if (property === 'listUsers' || property === 'ping') return () => Promise.reject(new Error(secret));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const app = await buildApp({
      config: h.config,
      store: broken,
      redis: h.redis,
      queues: h.queues,
      metrics: createMetrics('api'),
      logger: createLogger({ name: 'api-test', level: 'silent' }),
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/users', headers: { authorization: `Bearer ${h.token}` } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: 'internal', message: 'internal error (logged with the request id)' });
      expect(res.body).not.toContain('hunter2');
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not ready', checks: { redis: 'ok', store: 'Error' } });
    } finally {
      await app.close();
    }
  });
});
