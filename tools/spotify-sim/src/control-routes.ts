// The control API under /control (never under Spotify's paths): clock, users, ledger, faults, calls, replay, apps.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimState, SimUser } from './state.ts';
import { FAULT_KINDS, type EndpointSelector, type FaultKind, type FaultSpec } from './faults.ts';
import { loadReplay } from './replay.ts';
import type { Rotation } from './tokens.ts';

type Body = Record<string, unknown>;

class BadRequest extends Error {}

function body(request: FastifyRequest): Body {
  const b = request.body;
  return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Body) : {};
}

function num(b: Body, key: string, min = 0): number | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new BadRequest(`${key} must be a number >= ${min}`);
  return v;
}

function str(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${key} must be a string`);
  return v;
}

function oneOf<T extends string>(b: Body, key: string, allowed: readonly T[]): T | undefined {
  const v = str(b, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new BadRequest(`${key} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function bool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new BadRequest(`${key} must be a boolean`);
  return v;
}

function userView(state: SimState, u: SimUser): Record<string, unknown> {
  return {
    id: u.id,
    displayName: u.displayName,
    accountId: u.accountId,
    playsPerHour: u.listening.playsPerHour,
    rotateRefreshTokens: u.rotateRefreshTokens,
    consented: u.consented,
    authorized: state.tokens.hasGrant(u.id),
    plays: u.listening.plays().length,
  };
}

const ENDPOINTS: readonly EndpointSelector[] = ['token', 'me', 'recently-played', 'web-api', 'all'];
const ROTATIONS: readonly Rotation[] = ['off', 'revoke-old', 'keep-old'];

function faultSpec(b: Body): FaultSpec {
  const kind = oneOf<FaultKind>(b, 'kind', FAULT_KINDS);
  if (kind === undefined) throw new BadRequest(`kind is required: ${FAULT_KINDS.join(', ')}`);
  const spec: FaultSpec = { kind };
  const endpoint = oneOf(b, 'endpoint', ENDPOINTS);
  if (endpoint !== undefined) spec.endpoint = endpoint;
  else if (kind === 'invalid-grant') spec.endpoint = 'token';
  const strings = ['userId', 'body', 'contentType'] as const;
  for (const k of strings) {
    const v = str(b, k);
    if (v !== undefined) spec[k] = v;
  }
  const numbers = ['count', 'durationMs', 'retryAfterSec', 'status', 'delayMs'] as const;
  for (const k of numbers) {
    const v = num(b, k, k === 'count' ? 1 : 0);
    if (v !== undefined) spec[k] = v;
  }
  if (spec.status !== undefined && (spec.status < 500 || spec.status > 599)) throw new BadRequest('status must be 5xx');
  return spec;
}

export function controlRoutes(app: FastifyInstance, state: SimState, controlToken: string | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    if (controlToken === undefined) return;
    if (request.headers['x-sim-control-token'] !== controlToken) {
      await reply.code(401).send({ error: 'control token required (header x-sim-control-token)' });
    }
  });
  app.setErrorHandler(async (error, _request, reply) => {
    const status = error instanceof BadRequest || error instanceof RangeError ? 400 : 500;
    await reply.code(status).send({ error: error instanceof Error ? error.message : String(error) });
  });

  const withUser = (request: FastifyRequest, reply: FastifyReply): SimUser | undefined => {
    const user = state.user((request.params as { id: string }).id);
    if (!user) void reply.code(404).send({ error: 'unknown user' });
    return user;
  };

  app.get('/clock', () => state.clock.view());
  app.post('/clock', (request) => {
    const b = body(request);
    state.materializeAll();
    const running = bool(b, 'running');
    const advanceMs = num(b, 'advanceMs');
    const setMs = num(b, 'setMs');
    const setIso = str(b, 'set');
    if (advanceMs !== undefined) state.clock.advance(advanceMs);
    if (setMs !== undefined) state.clock.set(setMs);
    if (setIso !== undefined) {
      const ms = Date.parse(setIso);
      if (Number.isNaN(ms)) throw new BadRequest('set must be an ISO date-time');
      state.clock.set(ms);
    }
    if (bool(b, 'toRealNow') === true) state.clock.set(Date.now());
    if (running !== undefined) state.clock.setRunning(running);
    return state.clock.view();
  });

  app.get('/users', () => [...state.users.values()].map((u) => userView(state, u)));
  app.post('/users', async (request, reply) => {
    const b = body(request);
    const spec: { id?: string; displayName?: string; playsPerHour?: number } = {};
    const id = str(b, 'id');
    const displayName = str(b, 'displayName');
    const playsPerHour = num(b, 'playsPerHour');
    if (id !== undefined) spec.id = id;
    if (displayName !== undefined) spec.displayName = displayName;
    if (playsPerHour !== undefined) spec.playsPerHour = playsPerHour;
    return reply.code(201).send(userView(state, state.addUser(spec)));
  });
  app.get('/users/:id', (request, reply) => {
    const user = withUser(request, reply);
    return user ? userView(state, user) : reply;
  });
  app.patch('/users/:id', (request, reply) => {
    const user = withUser(request, reply);
    if (!user) return reply;
    const b = body(request);
    const playsPerHour = num(b, 'playsPerHour');
    const rotation = oneOf(b, 'rotateRefreshTokens', ROTATIONS);
    if (playsPerHour !== undefined) {
      state.materializeAll();
      user.listening.playsPerHour = playsPerHour;
    }
    if (rotation !== undefined) user.rotateRefreshTokens = rotation;
    return userView(state, user);
  });
  app.post('/users/:id/listen', (request, reply) => {
    const user = withUser(request, reply);
    if (!user) return reply;
    const count = num(body(request), 'count', 1) ?? 1;
    const plays = user.listening.listen(Math.floor(count), state.clock.now());
    return { plays: plays.length, lastPlayedAt: plays.at(-1)?.playedAt ?? null };
  });
  app.get('/users/:id/ledger', (request, reply) => {
    const user = withUser(request, reply);
    if (!user) return reply;
    return { userId: user.id, nowMs: state.clock.now(), plays: user.listening.ledger() };
  });
  app.post('/users/:id/expire-access-tokens', (request, reply) => {
    const user = withUser(request, reply);
    return user ? { expired: state.tokens.expireAccessTokens(user.id) } : reply;
  });
  app.post('/users/:id/expire-refresh-tokens', (request, reply) => {
    const user = withUser(request, reply);
    return user ? { grants: state.tokens.endRefreshLifetime(user.id) } : reply;
  });
  app.post('/users/:id/revoke', (request, reply) => {
    const user = withUser(request, reply);
    return user ? { grants: state.tokens.revoke(user.id) } : reply;
  });
  app.post('/users/:id/replay', async (request, reply) => {
    const user = withUser(request, reply);
    if (!user) return reply;
    const b = body(request);
    const dir = str(b, 'dir');
    const files = b.files;
    const pages = b.pages;
    if (files !== undefined && (!Array.isArray(files) || !files.every((f) => typeof f === 'string'))) {
      throw new BadRequest('files must be an array of paths');
    }
    if (pages !== undefined && !Array.isArray(pages)) throw new BadRequest('pages must be an array');
    const source: { dir?: string; files?: string[]; pages?: unknown[] } = {};
    if (dir !== undefined) source.dir = dir;
    if (files !== undefined) source.files = files;
    if (pages !== undefined) source.pages = pages as unknown[];
    let bodies: string[];
    try {
      bodies = await loadReplay(source);
    } catch (e) {
      throw new BadRequest(`replay: ${e instanceof Error ? e.message : String(e)}`);
    }
    state.replays.set(user.id, bodies);
    return { remaining: bodies.length };
  });
  app.get('/users/:id/replay', (request, reply) => {
    const user = withUser(request, reply);
    return user ? { remaining: state.replays.remaining(user.id) } : reply;
  });
  app.delete('/users/:id/replay', (request, reply) => {
    const user = withUser(request, reply);
    if (user) state.replays.stop(user.id);
    return user ? { remaining: 0 } : reply;
  });

  app.post('/authorize/next', (request) => {
    const b = body(request);
    const userId = str(b, 'userId');
    if (bool(b, 'deny') === true) state.nextLogins.push({ deny: true });
    else if (userId !== undefined) state.nextLogins.push({ userId });
    else throw new BadRequest('give userId or deny: true');
    return { queued: state.nextLogins.length };
  });
  app.delete('/authorize/next', () => {
    state.nextLogins.length = 0;
    return { queued: 0 };
  });

  app.get('/apps', () => [...state.apps.values()]);
  app.put('/apps/:clientId', (request) => {
    const clientId = (request.params as { clientId: string }).clientId;
    const b = body(request);
    const current = state.apps.get(clientId);
    const clientSecret = str(b, 'clientSecret') ?? current?.clientSecret;
    const redirectUris = b.redirectUris ?? current?.redirectUris;
    if (clientSecret === undefined) throw new BadRequest('clientSecret is required');
    if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) {
      throw new BadRequest('redirectUris must be an array of strings');
    }
    const devMode = bool(b, 'devMode') ?? current?.devMode ?? false;
    const registered = { clientId, clientSecret, redirectUris: redirectUris, devMode };
    state.apps.set(clientId, registered);
    return registered;
  });

  app.post('/faults', async (request, reply) => {
    const spec = faultSpec(body(request));
    if (spec.userId !== undefined && !state.users.has(spec.userId)) throw new BadRequest('unknown userId');
    return reply.code(201).send(state.faults.add(spec));
  });
  app.get('/faults', () => state.faults.list());
  app.delete('/faults', () => {
    state.faults.clear();
    return { faults: 0 };
  });
  app.delete('/faults/:id', (request, reply) => {
    const removed = state.faults.remove((request.params as { id: string }).id);
    return removed ? { removed: true } : reply.code(404).send({ error: 'unknown fault' });
  });

  app.get('/calls', () => state.calls.view());
  app.delete('/calls', () => {
    state.calls.reset();
    return state.calls.view();
  });
}
