// The auth service's view of Spotify (spotify-port.ts) over the project's Spotify client (libs/spotify).
import type { Logger, Metrics } from '@playledger/common';
import { createSpotifyClient, type SpotifyClient } from '@playledger/spotify';
import type { AuthConfig } from './config.ts';
import type { SpotifyAccounts } from './spotify-port.ts';

export function spotifyAccountsFrom(client: SpotifyClient): SpotifyAccounts {
  return {
    async exchangeCode(input) {
      const grant = await client.exchangeCode(input);
      return {
        accessToken: grant.accessToken,
        expiresAt: grant.expiresAt,
        refreshToken: grant.refreshToken,
        scope: grant.scopes.join(' ') || null,
      };
    },
    async refresh(refreshToken) {
      const grant = await client.refresh({ refreshToken });
      return {
        accessToken: grant.accessToken,
        expiresAt: grant.expiresAt,
        refreshToken: grant.newRefreshToken,
        scope: grant.scopes.join(' ') || null,
      };
    },
    async getMe(accessToken) {
      const me = await client.getMe(accessToken);
      return {
        id: me.profile.id,
        accountId: me.profile.account_id ?? null,
        displayName: me.profile.display_name ?? null,
      };
    },
  };
}

export function createSpotifyAccounts(config: AuthConfig, logger: Logger, metrics: Metrics): SpotifyAccounts {
  return spotifyAccountsFrom(
    createSpotifyClient({
      accountsUrl: config.SPOTIFY_ACCOUNTS_URL,
      apiUrl: config.SPOTIFY_API_URL,
      clientId: config.SPOTIFY_CLIENT_ID,
      clientSecret: config.SPOTIFY_CLIENT_SECRET,
      timeoutMs: config.SPOTIFY_TIMEOUT_MS,
      quotaPauseMs: config.SPOTIFY_QUOTA_PAUSE_MS,
      logger,
      metrics,
    }),
  );
}
