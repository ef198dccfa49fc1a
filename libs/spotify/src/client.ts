// The Spotify client: the token endpoint of the accounts service, GET /v1/me and GET /v1/me/player/recently-played.
// Every failure becomes a typed error (libs/common errors.ts, plus AccessTokenRejectedError); every response is
// checked against the as-lived schemas. Base URLs come from config, so the same code talks to Spotify or the simulator.
import {
  PermanentError,
  ReauthRequiredError,
  TransientError,
  redactString,
  registerSecret,
  type Logger,
} from '@playledger/common';
import { AccessTokenRejectedError } from './errors.ts';
import { count, exchange, parseJson, rateLimited, type CallCounter, type Endpoint, type RawResponse } from './http.ts';
import { buildAuthorizeUrl } from './pkce.ts';
import { checkers, type Checker, type SchemaProblem } from './schemas.ts';
import type { PrivateUser, RawRecentlyPlayedPage, RecentlyPlayedPage } from './types.ts';

export interface SpotifyClientOptions {
  /** e.g. https://accounts.spotify.com (SPOTIFY_ACCOUNTS_URL) */
  accountsUrl: string;
  /** e.g. https://api.spotify.com (SPOTIFY_API_URL) */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** per request, connection to last byte (SPOTIFY_TIMEOUT_MS) */
  timeoutMs: number;
  /** pause after a QUOTA_EXCEEDED 429 without Retry-After (SPOTIFY_QUOTA_PAUSE_MS) */
  quotaPauseMs: number;
  logger: Logger;
  /** `metrics.spotifyCalls` of libs/common createMetrics, counted by endpoint and outcome */
  metrics?: { spotifyCalls: CallCounter } | undefined;
  /** wait after a rate-limit 429 without Retry-After; default 30 s (Spotify's rolling window, FACTS 26) */
  defaultRetryAfterMs?: number;
  /** clock for expiresAt and Retry-After; default Date.now */
  now?: () => number;
}

export interface AccessGrant {
  accessToken: string;
  tokenType: string;
  scopes: string[];
  expiresInSeconds: number;
  /** when the access token stops working, measured from when the request was sent */
  expiresAt: Date;
}

export interface CodeGrant extends AccessGrant {
  refreshToken: string;
}

export interface RefreshGrant extends AccessGrant {
  /** The rotated refresh token to store, or null: none was returned, so keep using the old one (FACTS 22). */
  newRefreshToken: string | null;
}

export interface RecentlyPlayedQuery {
  /** 1-50, default 50 */
  limit?: number;
  /** epoch ms, exclusive; not together with before */
  after?: number | string;
  /** epoch ms, exclusive; not together with after */
  before?: number | string;
}

export interface SpotifyUser {
  /** the key to link the account by: account_id when Spotify sends it, else id (FACTS 18) */
  key: string;
  profile: PrivateUser;
}

export interface ItemProblems {
  /** index in page.items */
  index: number;
  problems: SchemaProblem[];
}

export interface RawRecentlyPlayed {
  page: RawRecentlyPlayedPage;
  /** items that fail the as-lived item schema (paths inside the item); empty when every item is valid */
  invalidItems: ItemProblems[];
}

export interface SpotifyClient {
  authorizeUrl(o: {
    redirectUri: string;
    scopes: readonly string[];
    state: string;
    codeChallenge: string;
    showDialog?: boolean;
  }): string;
  /** authorization_code grant as a confidential client (Basic header) with the PKCE code_verifier. */
  exchangeCode(o: { code: string; redirectUri: string; codeVerifier: string; userId?: string }): Promise<CodeGrant>;
  /** refresh_token grant (Basic header). `userId` only labels a ReauthRequiredError. */
  refresh(o: { refreshToken: string; userId?: string }): Promise<RefreshGrant>;
  getMe(accessToken: string): Promise<SpotifyUser>;
  /** The page, every item checked: one bad item fails the whole call with a PermanentError. */
  getRecentlyPlayed(accessToken: string, query?: RecentlyPlayedQuery): Promise<RecentlyPlayedPage>;
  /**
   * The page with its envelope checked (a bad envelope is a PermanentError) and its items only reported, for a
   * pipeline that checks and dead-letters items one by one. Same schemas as getRecentlyPlayed.
   */
  getRecentlyPlayedRaw(accessToken: string, query?: RecentlyPlayedQuery): Promise<RawRecentlyPlayed>;
  /** Follows a page's `next` (re-based on apiUrl: the token is never sent anywhere else). */
  followNext(accessToken: string, next: string): Promise<RecentlyPlayedPage>;
  /** The first page, then each `next` until it is null, an empty page comes, or maxPages were read. */
  pages(
    accessToken: string,
    query?: RecentlyPlayedQuery,
    o?: { maxPages?: number },
  ): AsyncGenerator<RecentlyPlayedPage>;
}

const RECENTLY_PLAYED_PATH = '/v1/me/player/recently-played';
const SAMPLE_CHARS = 200;

const FORBIDDEN_MESSAGE =
  'Spotify answered 403 Forbidden (its body says no more). Either the user is not on the allow-list of this ' +
  'development-mode app (Dashboard > User Management), or this endpoint was removed for development-mode apps. ' +
  'Re-authorizing will not help.';

export function createSpotifyClient(options: SpotifyClientOptions): SpotifyClient {
  const { accountsUrl, apiUrl, clientId, clientSecret, logger } = options;
  const now = options.now ?? Date.now;
  const t = { timeoutMs: options.timeoutMs, logger, metrics: options.metrics, now };
  const limits = { quotaPauseMs: options.quotaPauseMs, defaultRetryAfterMs: options.defaultRetryAfterMs ?? 30_000 };
  registerSecret(clientSecret);
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

  // ---- accounts service ----

  async function tokenRequest(form: Record<string, string>, userId: string) {
    const sentAt = now();
    const response = await exchange(t, 'token', new URL('/api/token', accountsUrl).toString(), {
      method: 'POST',
      headers: {
        authorization: basic,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
    });
    const body = parseJson(response.text);
    if (response.status >= 200 && response.status < 300) {
      count(t, 'token', String(response.status));
      if (body === undefined) {
        // Never a sample here: the accounts service's body may hold tokens.
        logger.warn(
          { endpoint: 'token', status: response.status },
          'Spotify accounts answered a body that is not JSON',
        );
        throw new TransientError(`Spotify token: ${response.status} with a body that is not JSON`);
      }
      if (!checkers.token.check(body)) {
        const where = checkers.token.problems(body)[0];
        registerTokens(body);
        throw new PermanentError(
          'spotify-token-schema',
          `Spotify token: response does not match the schema at ${where?.path || '/'}: ${where?.message ?? ''}`,
        );
      }
      registerSecret(body.access_token);
      registerSecret(body.refresh_token);
      const grant: AccessGrant = {
        accessToken: body.access_token,
        tokenType: body.token_type,
        scopes: (body.scope ?? '').split(' ').filter(Boolean),
        expiresInSeconds: body.expires_in,
        expiresAt: new Date(sentAt + body.expires_in * 1000),
      };
      return { grant, refreshToken: body.refresh_token };
    }
    throw accountsFailure(response, body, userId);
  }

  function registerTokens(body: unknown): void {
    if (typeof body !== 'object' || body === null) return;
    for (const key of ['access_token', 'refresh_token'] as const) {
      const value = (body as Record<string, unknown>)[key];
      if (typeof value === 'string') registerSecret(value);
    }
  }

  function accountsFailure(response: RawResponse, body: unknown, userId: string): Error {
    const { status } = response;
    if (status === 429) return rateLimited(t, 'token', response, body, limits);
    count(t, 'token', String(status));
    if (status >= 500) return new TransientError(`Spotify token: ${status} from the accounts service`);
    if (!checkers.oauthError.check(body)) {
      logger.warn({ endpoint: 'token', status }, 'Spotify accounts answered an error that is not an OAuth error body');
      return new TransientError(`Spotify token: ${status} without an OAuth error body`);
    }
    const description = body.error_description ? ` (${redactString(body.error_description)})` : '';
    switch (body.error) {
      case 'invalid_grant':
        return new ReauthRequiredError(
          userId,
          `Spotify refused the grant: invalid_grant${description}; the user must log in again`,
        );
      case 'invalid_client':
        return new PermanentError(
          'spotify-invalid-client',
          `Spotify refused the client credentials: invalid_client${description}; check SPOTIFY_CLIENT_ID/SECRET`,
        );
      default:
        return new PermanentError(
          `spotify-oauth-${body.error.replace(/[^a-z_]/gi, '').slice(0, 40)}`,
          `Spotify token: ${status} ${body.error}${description}`,
        );
    }
  }

  // ---- Web API ----

  async function apiGet<T>(endpoint: Endpoint, url: URL, accessToken: string, checker: Checker<T>): Promise<T> {
    registerSecret(accessToken);
    const response = await exchange(t, endpoint, url.toString(), {
      method: 'GET',
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    });
    const { status } = response;
    const body = parseJson(response.text);
    if (status === 429) throw rateLimited(t, endpoint, response, body, limits);
    count(t, endpoint, String(status));
    if (body === undefined) {
      // Web API bodies hold no secrets (the redactor runs anyway): a short sample helps find the proxy or outage.
      logger.warn(
        {
          endpoint,
          status,
          contentType: response.headers.get('content-type'),
          sample: redactString(response.text.slice(0, SAMPLE_CHARS)),
        },
        'Spotify answered a body that is not JSON',
      );
    }
    if (status >= 200 && status < 300) {
      if (body === undefined) throw new TransientError(`Spotify ${endpoint}: ${status} with a body that is not JSON`);
      if (!checker.check(body)) {
        const problems = checker.problems(body);
        const where = problems[0];
        logger.warn({ endpoint, problems }, 'Spotify response does not match the schema');
        throw new PermanentError(
          'spotify-response-schema',
          `Spotify ${endpoint}: response does not match the schema at ${where?.path || '/'}: ${where?.message ?? ''}`,
        );
      }
      return body;
    }
    if (status === 401) {
      throw new AccessTokenRejectedError(`Spotify ${endpoint}: 401, access token rejected (refresh once, then retry)`);
    }
    if (status === 403) throw new PermanentError('spotify-forbidden', `Spotify ${endpoint}: ${FORBIDDEN_MESSAGE}`);
    if (status >= 500) throw new TransientError(`Spotify ${endpoint}: ${status}`);
    if (status >= 300 && status < 400) throw new TransientError(`Spotify ${endpoint}: unexpected redirect ${status}`);
    // Spotify's own 4xx bodies are JSON; a page that is not JSON came from something in between: try again later.
    if (body === undefined) throw new TransientError(`Spotify ${endpoint}: ${status} with a body that is not JSON`);
    const message = checkers.error.check(body) ? `: ${body.error.message}` : '';
    throw new PermanentError(`spotify-http-${status}`, `Spotify ${endpoint}: ${status}${message}`);
  }

  function recentlyPlayedUrl(query: RecentlyPlayedQuery): URL {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw new PermanentError('spotify-invalid-argument', `recently-played: limit must be 1-50, got ${limit}`);
    }
    if (query.after !== undefined && query.before !== undefined) {
      throw new PermanentError('spotify-invalid-argument', 'recently-played: after and before are mutually exclusive');
    }
    const url = new URL(RECENTLY_PLAYED_PATH, apiUrl);
    for (const key of ['after', 'before'] as const) {
      const value = query[key];
      if (value === undefined) continue;
      const text = String(value);
      if (!/^\d+$/.test(text)) {
        throw new PermanentError('spotify-invalid-argument', `recently-played: ${key} must be epoch ms, got ${text}`);
      }
      url.searchParams.set(key, text);
    }
    url.searchParams.set('limit', String(limit));
    return url;
  }

  function queryFromNext(next: string): RecentlyPlayedQuery {
    let url: URL;
    try {
      url = new URL(next);
    } catch {
      throw new PermanentError('spotify-invalid-next', `recently-played: next is not a URL`);
    }
    if (!url.pathname.endsWith(RECENTLY_PLAYED_PATH)) {
      throw new PermanentError('spotify-invalid-next', `recently-played: next points elsewhere (${url.pathname})`);
    }
    const get = (k: string) => url.searchParams.get(k) ?? undefined;
    const limit = get('limit');
    return { limit: limit === undefined ? undefined : Number(limit), after: get('after'), before: get('before') };
  }

  const client: SpotifyClient = {
    authorizeUrl: (o) => buildAuthorizeUrl({ accountsUrl, clientId, ...o }),

    async exchangeCode({ code, redirectUri, codeVerifier, userId = '' }) {
      registerSecret(code);
      registerSecret(codeVerifier);
      const { grant, refreshToken } = await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier },
        userId,
      );
      if (!refreshToken) {
        throw new PermanentError(
          'spotify-token-schema',
          'Spotify token: authorization_code answer has no refresh_token',
        );
      }
      return { ...grant, refreshToken };
    },

    async refresh({ refreshToken, userId = '' }) {
      registerSecret(refreshToken);
      const { grant, refreshToken: rotated } = await tokenRequest(
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        userId,
      );
      return { ...grant, newRefreshToken: rotated && rotated !== refreshToken ? rotated : null };
    },

    async getMe(accessToken) {
      const profile = await apiGet('me', new URL('/v1/me', apiUrl), accessToken, checkers.me);
      return { key: profile.account_id ?? profile.id, profile };
    },

    async getRecentlyPlayed(accessToken, query = {}) {
      return apiGet('recently-played', recentlyPlayedUrl(query), accessToken, checkers.recentlyPlayed);
    },

    async getRecentlyPlayedRaw(accessToken, query = {}) {
      const url = recentlyPlayedUrl(query);
      const page = await apiGet('recently-played', url, accessToken, checkers.recentlyPlayedEnvelope);
      const invalidItems: ItemProblems[] = [];
      page.items.forEach((item, index) => {
        if (!checkers.playHistoryItem.check(item)) {
          invalidItems.push({ index, problems: checkers.playHistoryItem.problems(item) });
        }
      });
      if (invalidItems.length > 0) {
        logger.warn(
          { endpoint: 'recently-played', invalid: invalidItems.length, first: invalidItems[0] },
          'Spotify page has items that do not match the schema',
        );
      }
      return { page, invalidItems };
    },

    async followNext(accessToken, next) {
      return client.getRecentlyPlayed(accessToken, queryFromNext(next));
    },

    async *pages(accessToken, query = {}, { maxPages = Number.POSITIVE_INFINITY } = {}) {
      let page = await client.getRecentlyPlayed(accessToken, query);
      yield page;
      const seen = new Set<string>();
      for (let read = 1; read < maxPages && page.next !== null && page.items.length > 0; read++) {
        const key = JSON.stringify(queryFromNext(page.next));
        if (seen.has(key)) return; // a `next` that repeats itself would loop forever
        seen.add(key);
        page = await client.followNext(accessToken, page.next);
        yield page;
      }
    },
  };
  return client;
}
