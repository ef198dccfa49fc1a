// The extractor's one use of the Spotify client: the newest plays, in one call.
import { createSpotifyClient, AccessTokenRejectedError } from '@playledger/spotify';
import type { Logger, Metrics } from '@playledger/common';
import type { ExtractorConfig } from './config.ts';
import type { RecentlyPlayedPage } from './extract.ts';

export interface RecentlyPlayedReader {
  getRecentlyPlayed(accessToken: string, limit: number): Promise<RecentlyPlayedPage>;
  isTokenRejected(error: unknown): boolean;
}

export function createRecentlyPlayedReader(
  config: Pick<ExtractorConfig, 'SPOTIFY_API_URL' | 'SPOTIFY_TIMEOUT_MS' | 'SPOTIFY_QUOTA_PAUSE_MS'>,
  logger: Logger,
  metrics: Pick<Metrics, 'spotifyCalls'>,
): RecentlyPlayedReader {
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
      // Only the page's envelope must hold: a bad item is the validator's to dead-letter with its rule, so one
      // bad record never sinks the page (the client reports such items; they travel on unchanged).
      const { page } = await client.getRecentlyPlayedRaw(accessToken, { limit });
      return { items: page.items };
    },
    isTokenRejected: (error) => error instanceof AccessTokenRejectedError,
  };
}
