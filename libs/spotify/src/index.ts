// @playledger/spotify: the only code in the product that speaks to Spotify.
export * from './client.ts';
export * from './errors.ts';
export * from './pkce.ts';
export * from './types.ts';
export {
  LiveSchemas,
  LiveRecentlyPlayedPage,
  LivePrivateUser,
  LiveErrorResponse,
  LivePlayHistoryItem,
  LiveRecentlyPlayedEnvelope,
  TokenResponse,
  OAuthErrorResponse,
  checkers,
  type Checker,
  type SchemaProblem,
} from './schemas.ts';
export * as SpecSchemas from './spec-schemas.ts';
export {
  LIVE_DIFFERENCES,
  applyLiveDifferences,
  PLAYED_AT_PATTERN,
  CURSOR_PATTERN,
  type LiveDifference,
  type SchemaChange,
} from './live-differences.ts';
export type { CallCounter, Endpoint } from './http.ts';
