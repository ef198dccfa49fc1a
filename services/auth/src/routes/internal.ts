// Service-to-service routes, refused without AUTH_SERVICE_SECRET: POST /internal/token and GET /users/expiring.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import {
  RateLimitedError,
  ReauthRequiredError,
  TOKEN_PATH,
  TokenRequest,
  TokenResponses,
  TransientError,
  type Logger,
  type Metrics,
} from '@playledger/common';
import type { Store } from '@playledger/store';
import type { AuthCore } from '../core.ts';
import type { Clock } from '../clock.ts';
import { listExpiringUsers } from '../expiry.ts';
import { UnknownUserError } from '../token-service.ts';

export interface InternalRouteOptions {
  core: AuthCore;
  store: Store;
  secret: string;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  publicBase: () => string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of `Authorization: Bearer <secret>`. */
export function secretMatches(header: string | undefined, secret: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(secret)) && match !== null;
}

const ExpiringQuery = Type.Object({ withinDays: Type.Integer({ minimum: 0, maximum: 366, default: 14 }) });

export function registerInternalRoutes(app: FastifyInstance, o: InternalRouteOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!secretMatches(request.headers.authorization, o.secret)) {
      return reply.code(401).send({ error: 'unauthorized' });
    }
  });

  app.post<{ Body: TokenRequest }>(
    TOKEN_PATH,
    { schema: { body: TokenRequest, response: TokenResponses } },
    async (request, reply) => {
      const { userId, rejectedToken } = request.body;
      try {
        const token = await o.core.tokens.getAccessToken(userId, rejectedToken);
        return reply.code(200).send({ accessToken: token.accessToken, expiresAt: token.expiresAt.toISOString() });
      } catch (error) {
        if (error instanceof UnknownUserError) return reply.code(404).send({ error: 'unknown_user' });
        if (error instanceof ReauthRequiredError) {
          o.logger.info({ userId, reason: error.message }, 'token refused: the user must log in again');
          return reply.code(409).send({ error: 'reauth_required', message: error.message });
        }
        if (error instanceof RateLimitedError) {
          return reply.code(429).send({ error: 'rate_limited', retryAt: error.until.toISOString(), reason: error.reason });
        }
        if (error instanceof TransientError) {
          // Spotify down or a slow refresh elsewhere: the caller retries later; the stack adds nothing
          o.logger.warn({ userId, reason: error.message }, 'token request: unavailable for now');
        } else {
          o.logger.error({ err: error, userId }, 'token request failed');
        }
        return reply.code(503).send({ error: 'unavailable', message: 'the token could not be obtained now; retry later' });
      }
    },
  );

  app.get<{ Querystring: Static<typeof ExpiringQuery> }>(
    '/users/expiring',
    { schema: { querystring: ExpiringQuery } },
    async (request) => {
      const users = await listExpiringUsers(o.store, o.clock.now(), request.query.withinDays, `${o.publicBase()}/login`);
      if (request.query.withinDays === 14) o.metrics.usersExpiringSoon.set(users.length);
      return { withinDays: request.query.withinDays, users };
    },
  );
}
