// What auth needs from Spotify's accounts service and /v1/me. The adapter over libs/spotify implements it
// (spotify-adapter.ts). Failures are the typed errors of libs/common: ReauthRequiredError for invalid_grant,
// RateLimitedError for 429, TransientError for outages and timeouts, PermanentError for the rest.
export interface TokenGrant {
  accessToken: string;
  expiresAt: Date;
  /** present when Spotify returned one (always on a code exchange, sometimes on a refresh: rotation) */
  refreshToken: string | null;
  scope: string | null;
}

export interface SpotifyProfile {
  id: string;
  accountId: string | null;
  displayName: string | null;
}

export interface SpotifyAccounts {
  exchangeCode(input: { code: string; redirectUri: string; codeVerifier: string }): Promise<TokenGrant>;
  refresh(refreshToken: string): Promise<TokenGrant>;
  getMe(accessToken: string): Promise<SpotifyProfile>;
}

export const SCOPES = ['user-read-recently-played', 'user-read-private', 'user-read-email'] as const;
