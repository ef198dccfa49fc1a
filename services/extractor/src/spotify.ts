// The extractor's one use of the Spotify client: the newest plays, in one call.
import Type from 'typebox';
import Schema from 'typebox/schema';
import { checkers, createSpotifyClient, AccessTokenRejectedError, type RecentlyPlayedPage as ClientPage } from '@playledger/spotify';
import type { Logger, Metrics } from '@playledger/common';
import type { ExtractorConfig } from './config.ts';
import type { RecentlyPlayedPage } from './extract.ts';

export interface RecentlyPlayedReader {
  getRecentlyPlayed(accessToken: string, limit: number): Promise<RecentlyPlayedPage>;
  isTokenRejected(error: unknown): boolean;
}

/**
 * WORKAROUND (to remove once libs/spotify checks only the page envelope): the client checks every item of a page
 * against the as-lived schema and throws a PermanentError for the whole page when one item breaks it. That sinks a
 * batch for one bad record, which the design forbids: records are the validator's to check, one by one, and a bad
 * one goes to the dead-letter queue with its rule. So this process checks the page's envelope (items is an array,
 * cursors, limit, next, href) and leaves items unchecked for the validator. It changes only this process's checker.
 */
const PageEnvelope = Type.Object({
  href: Type.String(),
  limit: Type.Integer(),
  next: Type.Union([Type.String(), Type.Null()]),
  cursors: Type.Union([Type.Object({ after: Type.String(), before: Type.String() }), Type.Null()]),
  items: Type.Array(Type.Unknown()),
});
const envelope = Schema.Compile(PageEnvelope);
function checkEnvelopeOnly(): void {
  const original = checkers.recentlyPlayed;
  checkers.recentlyPlayed = {
    check: (value: unknown): value is ClientPage => envelope.Check(value),
    problems: (value) => (envelope.Check(value) ? [] : original.problems(value)),
  };
}

export function createRecentlyPlayedReader(
  config: Pick<ExtractorConfig, 'SPOTIFY_API_URL' | 'SPOTIFY_TIMEOUT_MS' | 'SPOTIFY_QUOTA_PAUSE_MS'>,
  logger: Logger,
  metrics: Pick<Metrics, 'spotifyCalls'>,
): RecentlyPlayedReader {
  checkEnvelopeOnly();
  // The extractor never talks to the accounts service (auth does): those options are unused here.
  const client = createSpotifyClient({
    accountsUrl: 'https://accounts.spotify.com',
    apiUrl: config.SPOTIFY_API_URL,
    clientId: '',
    clientSecret: '',
    timeoutMs: config.SPOTIFY_TIMEOUT_MS,
    quotaPauseMs: config.SPOTIFY_QUOTA_PAUSE_MS,
    logger,
    metrics,
  });
  return {
    getRecentlyPlayed: async (accessToken, limit) => {
      const page = await client.getRecentlyPlayed(accessToken, { limit });
      return { items: page.items };
    },
    isTokenRejected: (error) => error instanceof AccessTokenRejectedError,
  };
}
