// Spotify's error bodies (Web API and accounts) and how a fault becomes a response.
import type { FastifyReply } from 'fastify';
import type { Fault } from './faults.ts';

export const UNAUTHORIZED_MESSAGE = 'Missing/invalid/expired access token';

/** Web API: {"error":{"status":N,"message":"..."}} (FACTS 24). */
export function webError(reply: FastifyReply, status: number, message: string, reason?: string): FastifyReply {
  const error = reason === undefined ? { status, message } : { status, message, reason };
  return reply.code(status).type('application/json; charset=utf-8').send({ error });
}

/** Accounts: RFC 6749 {"error","error_description"} (FACTS 25). */
export function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error, error_description: description });
}

export type Side = 'web' | 'accounts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function delay(ms: number): Promise<void> {
  if (ms > 0) await sleep(ms);
}

/** Sends the fault's response. 'slow' never reaches here (it is a delay, applied before). */
export function sendFault(reply: FastifyReply, fault: Fault, side: Side): FastifyReply {
  const web = side === 'web';
  switch (fault.kind) {
    case 'rate-limit':
      reply.header('retry-after', String(fault.retryAfterSec ?? 1));
      return web
        ? webError(reply, 429, 'API rate limit exceeded')
        : oauthError(reply, 429, 'rate_limited', 'Too many requests');
    case 'quota-exceeded':
      if (fault.retryAfterSec !== undefined) reply.header('retry-after', String(fault.retryAfterSec));
      return web
        ? webError(reply, 429, 'Too many requests', 'QUOTA_EXCEEDED')
        : oauthError(reply, 429, 'rate_limited', 'Too many requests');
    case 'server-error': {
      const status = fault.status ?? 503;
      const message = status === 500 ? 'Server error' : status === 502 ? 'Bad gateway' : 'Service unavailable';
      return web ? webError(reply, status, message) : oauthError(reply, status, 'server_error', message);
    }
    case 'not-json':
      return reply
        .code(200)
        .type(fault.contentType ?? 'text/html; charset=utf-8')
        .send(fault.body ?? '<!DOCTYPE html><html><head><title>Error</title></head><body>upstream error</body></html>');
    case 'forbidden':
      return web ? webError(reply, 403, 'Forbidden') : oauthError(reply, 403, 'access_denied', 'Forbidden');
    case 'unauthorized':
      return web
        ? webError(reply, 401, UNAUTHORIZED_MESSAGE)
        : oauthError(reply, 400, 'invalid_client', 'Invalid client');
    case 'invalid-grant':
      return oauthError(reply, 400, 'invalid_grant', 'Refresh token revoked');
    case 'slow':
      return reply;
  }
}
