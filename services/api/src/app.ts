// The api as a Fastify plugin (apiApp) and a factory that builds a server around it (buildApp).
// Order matters: cookies and the access hook come before any route, so every route registered afterwards
// (Bull Board's and the docs' included) needs a bearer token or a session.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type RouteOptions } from 'fastify';
import { ALL_QUEUES, registerOpsRoutes } from '@playledger/common';
import type { ApiDeps } from './lib/deps.ts';
import { createGaugeSampler } from './lib/gauges.ts';
import { HttpError } from './lib/http-errors.ts';
import { cookieSecretFor, createSessionStore } from './lib/sessions.ts';
import { installAccessHook } from './plugins/access.ts';
import { registerBullBoard } from './plugins/bull-board.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { extractionRoutes } from './routes/extractions.ts';
import { loginRoutes } from './routes/login.ts';
import { playRoutes } from './routes/plays.ts';
import { userRoutes } from './routes/users.ts';
import { OPS_SCHEMAS } from './schemas/ops.ts';

/** Routes anyone may call: health and the sign-in page. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/login']);

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "querystring/limit": where the bad input is, from the first validation error. */
export function fieldOf(context: string | undefined, e: AjvError | undefined): string {
  const path = e?.instancePath ?? '';
  const missing = e?.keyword === 'required' ? `/${String(e.params.missingProperty)}` : '';
  return `${context ?? 'request'}${path}${missing}`;
}

function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const first = error.validation[0] as AjvError | undefined;
      const field = fieldOf(error.validationContext, first);
      return reply.code(400).send({ error: 'bad_request', message: `${field} ${first?.message ?? 'is invalid'}`, field });
    }
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ error: error.code, message: error.message });
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx (body too large, bad JSON, unsupported media type): safe to tell.
      return reply.code(status).send({ error: (error.code ?? 'bad_request').toLowerCase(), message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error (logged with the request id)' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}

export async function apiApp(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const queues = ALL_QUEUES.map((name) => deps.queues[name]);
  const sessions = createSessionStore(deps.redis, deps.config.QUEUE_PREFIX, deps.config.SESSION_TTL_MS);
  await app.register(cookie, { secret: cookieSecretFor(deps.config.API_TOKEN) });
  await app.register(formbody, { bodyLimit: 16_384 });
  installErrorHandlers(app);
  installAccessHook(app, { apiToken: deps.config.API_TOKEN, sessions, publicRoutes: PUBLIC_ROUTES });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'playledger api',
        version: '0.1.0',
        description: 'Manual extractions, users, plays and their export, gaps and dead letters.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' },
          session: { type: 'apiKey', in: 'cookie', name: 'pl_session', description: 'set by POST /login' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onRoute', (route) => {
    const schema = OPS_SCHEMAS[route.url];
    if (schema && route.schema === undefined) route.schema = schema;
  });
  registerOpsRoutes(app, {
    registry: deps.metrics.registry,
    checks: { redis: () => deps.redis.ping(), store: () => deps.store.ping() },
    beforeScrape: createGaugeSampler({ store: deps.store, queues, metrics: deps.metrics }),
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  loginRoutes(app, { apiToken: deps.config.API_TOKEN, sessions });
  extractionRoutes(app, deps);
  userRoutes(app, deps);
  playRoutes(app, deps);
  deadLetterRoutes(app, deps);
  await registerBullBoard(app, queues);
}

export interface BuildOptions {
  /** sees every route as it is registered (the 401 sweep collects them) */
  onRoute?: (route: RouteOptions) => void;
}

export async function buildApp(deps: ApiDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: false,
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false } },
  }) as unknown as FastifyInstance;
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  await app.register(apiApp, deps);
  return app;
}
