// The response schemas of /healthz, /readyz and /metrics. Those routes are registered by registerOpsRoutes
// (libs/common, shared by every service, without schemas); the api attaches these as the routes are added,
// so that they are documented and serialized like every other route.
import Type from 'typebox';
import type { FastifySchema } from 'fastify';
import { errors } from './common.ts';

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Record(Type.String(), Type.String(), { description: 'per dependency: ok, or the error name' }),
});

export const OPS_SCHEMAS: Record<string, FastifySchema> = {
  '/healthz': {
    tags: ['ops'],
    summary: 'the process is alive',
    response: { 200: Type.Object({ status: Type.Literal('ok') }), 500: errors()[500] },
  },
  '/readyz': {
    tags: ['ops'],
    summary: 'Redis and the store answer',
    response: {
      200: Type.Object(Readiness.properties, { description: 'ready' }),
      503: Type.Object(Readiness.properties, { description: 'a dependency does not answer' }),
      500: errors()[500],
    },
  },
  '/metrics': {
    tags: ['ops'],
    summary: 'Prometheus metrics (queue jobs per state and user gauges sampled at scrape)',
    produces: ['text/plain'],
    response: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } },
      ...errors(),
    },
  },
};
