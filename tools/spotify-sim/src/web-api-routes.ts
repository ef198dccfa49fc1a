// The Web API side: GET /v1/me and GET /v1/me/player/recently-played, with Spotify's errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimState, SimUser } from './state.ts';
import type { Endpoint } from './faults.ts';
import type { AccessToken } from './tokens.ts';
import type { Play } from './listening.ts';
import type { PlayHistoryItem } from './spotify-types.ts';
import { forDevMode, localTrack } from './catalog.ts';
import { buildPage, parsePageQuery, type VisibleItem } from './recently-played.ts';
import { UNAUTHORIZED_MESSAGE, delay, sendFault, webError } from './responses.ts';

const RECENTLY_PLAYED = '/v1/me/player/recently-played';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * The common front of every Web API call: count it, apply app-wide faults, check the token, apply the user's faults.
 * Returns the token and user, or undefined when a response was already sent.
 */
async function admit(
  state: SimState,
  endpoint: Endpoint,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ token: AccessToken; user: SimUser } | undefined> {
  const raw = bearer(request);
  state.calls.count(endpoint, raw === undefined ? undefined : state.tokens.accessUser(raw));
  const appWide = state.faults.take(endpoint, undefined);
  await delay(appWide.delayMs);
  if (appWide.fault) {
    sendFault(reply, appWide.fault, 'web');
    return undefined;
  }
  const token = raw === undefined ? undefined : state.tokens.access(raw);
  const user = token === undefined ? undefined : state.user(token.userId);
  if (!token || !user) {
    webError(reply, 401, UNAUTHORIZED_MESSAGE);
    return undefined;
  }
  const own = state.faults.take(endpoint, user.id);
  await delay(own.delayMs);
  if (own.fault) {
    sendFault(reply, own.fault, 'web');
    return undefined;
  }
  return { token, user };
}

function itemOf(state: SimState, play: Play, devMode: boolean): PlayHistoryItem {
  const source = state.catalog.tracks[play.trackIndex]!;
  const track = play.isLocal ? localTrack(source) : source.track;
  return { track: devMode ? forDevMode(track) : track, played_at: play.playedAt, context: play.context };
}

export function webApiRoutes(app: FastifyInstance, state: SimState): void {
  app.get('/v1/me', async (request, reply) => {
    const admitted = await admit(state, 'me', request, reply);
    if (!admitted) return reply;
    const { user } = admitted;
    return reply.code(200).send({
      display_name: user.displayName,
      external_urls: { spotify: `https://open.spotify.com/user/${user.id}` },
      href: `https://api.spotify.com/v1/users/${user.id}`,
      id: user.id,
      images: [],
      type: 'user',
      uri: `spotify:user:${user.id}`,
      account_id: user.accountId,
    });
  });

  app.get(RECENTLY_PLAYED, async (request, reply) => {
    const admitted = await admit(state, 'recently-played', request, reply);
    if (!admitted) return reply;
    const { token, user } = admitted;
    if (!token.scopes.has('user-read-recently-played')) return webError(reply, 403, 'Insufficient client scope');
    const parsed = parsePageQuery(request.query as Record<string, string | undefined>);
    if (!parsed.ok) return webError(reply, 400, parsed.message);
    const replayed = state.replays.next(user.id);
    if (replayed !== undefined) return reply.code(200).type('application/json; charset=utf-8').send(replayed);
    const devMode = state.apps.get(token.clientId)?.devMode ?? false;
    const visible: VisibleItem[] = user.listening
      .visibleItems()
      .map((play) => ({ playedAtMs: play.playedAtMs, item: itemOf(state, play, devMode) }));
    const endpointUrl = `${request.protocol}://${request.host}${RECENTLY_PLAYED}`;
    return reply.code(200).send(buildPage(visible, parsed.query, endpointUrl));
  });
}
