// The auth service as a Fastify instance built from its dependencies; main.ts creates them and listens.
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { registerOpsRoutes } from '@playledger/common';
import { listExpiringUsers } from './expiry.ts';
import { createAuthCore, type AuthCore, type CoreDeps } from './core.ts';
import { registerInternalRoutes } from './routes/internal.ts';
import { registerLoginRoutes } from './routes/login.ts';

export interface AppDeps extends CoreDeps {
  accountsUrl: string;
  clientId: string;
  serviceSecret: string;
  /** the redirect URI and the public base; known once the port is (PORT=0 picks one when listening) */
  urls: () => { redirectUri: string; publicBase: string };
  /** reuse the core main.ts built (for the headless set-up); built here otherwise */
  core?: AuthCore;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const core = deps.core ?? createAuthCore(deps);
  const logger: FastifyBaseLogger = deps.logger.child({}, {
    serializers: {
      // never the query string: /callback carries the authorization code and the state
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, path: req.url?.split('?')[0] }),
    },
  });
  const app = Fastify({ loggerInstance: logger, bodyLimit: 16 * 1024 });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send({ error: 'bad_request', message: error.message });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  registerOpsRoutes(app, {
    registry: deps.metrics.registry,
    checks: { redis: () => deps.redis.ping(), store: () => deps.store.ping() },
    beforeScrape: async () => {
      deps.metrics.usersNeedingReauth.set((await deps.store.listUsers({ status: 'needs_reauth' })).length);
      deps.metrics.usersExpiringSoon.set((await listExpiringUsers(deps.store, deps.clock.now(), 14, '')).length);
    },
  });
  registerLoginRoutes(app, {
    core,
    accountsUrl: deps.accountsUrl,
    clientId: deps.clientId,
    urls: deps.urls,
    clock: deps.clock,
    logger: deps.logger,
  });
  void app.register((internal, _opts, done) => {
    registerInternalRoutes(internal, {
      core,
      store: deps.store,
      secret: deps.serviceSecret,
      clock: deps.clock,
      metrics: deps.metrics,
      logger: deps.logger,
      publicBase: () => deps.urls().publicBase,
    });
    done();
  });
  return app;
}
