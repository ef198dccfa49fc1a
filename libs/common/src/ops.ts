// Health, readiness and metrics routes that every service serves: /healthz (the process is alive),
// /readyz (what this service itself depends on answers), /metrics (Prometheus text format).
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<unknown>;

export interface OpsRoutesOptions {
  registry: Registry;
  /** named checks, such as { redis: () => redis.ping(), store: () => store.ping() } */
  checks: Record<string, ReadinessCheck>;
  /** refreshes gauges sampled at scrape time (queue counts...) */
  beforeScrape?: () => Promise<void>;
}

export function registerOpsRoutes(app: FastifyInstance, { registry, checks, beforeScrape }: OpsRoutesOptions): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2_000);
          results[name] = 'ok';
        } catch (error) {
          ready = false;
          results[name] = error instanceof Error ? error.name : 'unreachable';
        }
      }),
    );
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', async (_request, reply) => {
    if (beforeScrape) await beforeScrape().catch(() => undefined);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
