// Builds the fastify app: accounts, Web API and control routes over one SimState.
import Fastify, { type FastifyInstance } from 'fastify';
import { accountsRoutes } from './accounts-routes.ts';
import { webApiRoutes } from './web-api-routes.ts';
import { controlRoutes } from './control-routes.ts';
import type { SimState } from './state.ts';

export function buildServer(state: SimState, options: { controlToken?: string; logger?: boolean }): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
    done(null, Object.fromEntries(new URLSearchParams(typeof text === 'string' ? text : text.toString('utf8'))));
  });
  accountsRoutes(app, state);
  webApiRoutes(app, state);
  void app.register(
    (control, _opts, done) => {
      controlRoutes(control, state, options.controlToken);
      done();
    },
    { prefix: '/control' },
  );
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/v1/'))
      return reply.code(404).send({ error: { status: 404, message: 'Service not found' } });
    return reply.code(404).send({ error: 'not_found' });
  });
  return app;
}
