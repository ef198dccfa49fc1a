// The schemas the client checks every response with: the spec schemas with the live differences applied, plus the
// accounts-service bodies (the token endpoint is not described by the OpenAPI file; FACTS 20-22, 25).
import Type from 'typebox';
import Schema from 'typebox/schema';
import { applyLiveDifferences } from './live-differences.ts';
import { CursorPagingPlayHistoryObject, ErrorResponse, PrivateUserObject, type SchemaTarget } from './spec-schemas.ts';
import type {
  PlayHistoryItem,
  PrivateUser,
  RawRecentlyPlayedPage,
  RecentlyPlayedPage,
  WebApiErrorBody,
} from './types.ts';

/** GET /v1/me/player/recently-played as Spotify really answers it. */
export const LiveRecentlyPlayedPage = applyLiveDifferences('recently-played', CursorPagingPlayHistoryObject);
/** GET /v1/me as Spotify really answers it. */
export const LivePrivateUser = applyLiveDifferences('me', PrivateUserObject);
/** A Web API error body as Spotify really sends it. */
export const LiveErrorResponse = applyLiveDifferences('error', ErrorResponse);

type Json = Record<string, unknown>;
const pageProperties = (LiveRecentlyPlayedPage as unknown as { properties: Json }).properties;

/** One item of a recently-played page, as lived (the page schema's `items.items`). */
export const LivePlayHistoryItem = (pageProperties.items as { items: Json }).items;

/**
 * The page without checking its items (`items` only has to be an array): for callers that check items one by one,
 * so one bad record never sinks its batch. Envelope + every item = the page schema.
 */
export const LiveRecentlyPlayedEnvelope: Json = {
  ...(LiveRecentlyPlayedPage as unknown as Json),
  properties: { ...pageProperties, items: { type: 'array' } },
};

export const LiveSchemas = {
  'recently-played': LiveRecentlyPlayedPage,
  me: LivePrivateUser,
  error: LiveErrorResponse,
} as const satisfies Record<SchemaTarget, unknown>;

/** Token endpoint success (FACTS 21, 22): refresh_token may be missing on a refresh. */
export const TokenResponse = Type.Object({
  access_token: Type.String({ minLength: 1 }),
  token_type: Type.String(),
  expires_in: Type.Integer({ minimum: 1 }),
  scope: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String({ minLength: 1 })),
});

/** Accounts-service error (RFC 6749, FACTS 25). */
export const OAuthErrorResponse = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
});

export interface SchemaProblem {
  /** JSON pointer into the response, e.g. /items/3/track/id ('' = the whole body) */
  path: string;
  message: string;
}

export interface Checker<T> {
  check(value: unknown): value is T;
  /** The first few problems, deepest first; empty when the value is valid. */
  problems(value: unknown): SchemaProblem[];
}

function checker<T>(schema: object): Checker<T> {
  const compiled = Schema.Compile(schema as Parameters<typeof Schema.Compile>[0]);
  return {
    check: (value: unknown): value is T => compiled.Check(value),
    problems(value) {
      const [ok, errors] = compiled.Errors(value) as [boolean, { instancePath: string; message: string }[]];
      if (ok) return [];
      return [...errors]
        .sort((a, b) => b.instancePath.length - a.instancePath.length)
        .slice(0, 5)
        .map((e) => ({ path: e.instancePath, message: e.message }));
    },
  };
}

/** Compiled checks of every response the client reads (frozen: no process may swap one out). */
export const checkers = Object.freeze({
  recentlyPlayed: checker<RecentlyPlayedPage>(LiveRecentlyPlayedPage),
  recentlyPlayedEnvelope: checker<RawRecentlyPlayedPage>(LiveRecentlyPlayedEnvelope),
  playHistoryItem: checker<PlayHistoryItem>(LivePlayHistoryItem),
  me: checker<PrivateUser>(LivePrivateUser),
  error: checker<WebApiErrorBody>(LiveErrorResponse),
  token: checker<{
    access_token: string;
    token_type: string;
    expires_in: number;
    scope?: string;
    refresh_token?: string;
  }>(TokenResponse),
  oauthError: checker<{ error: string; error_description?: string }>(OAuthErrorResponse),
});
