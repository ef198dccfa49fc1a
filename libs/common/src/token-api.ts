// The auth service's internal token endpoint, defined once: its request and answers as TypeBox schemas, and the small
// client other services call. Answers map to the typed errors of errors.ts so callers decide by class, never by text.
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { PermanentError, RateLimitedError, ReauthRequiredError, TransientError } from './errors.ts';
import { registerSecret } from './redact.ts';

export const TOKEN_PATH = '/internal/token';

/**
 * Where auth caches a user's access token (encrypted) in Redis. Services that must forget a user (deletion) remove
 * this key; only auth reads or writes it.
 */
export function accessTokenCacheKey(queuePrefix: string, userId: string): string {
  return `${queuePrefix}:auth:token:${encodeURIComponent(userId)}`;
}

export const TokenRequest = Type.Object(
  {
    userId: Type.String({ minLength: 1, maxLength: 256 }),
    /** the access token Spotify just answered 401 to: forces one refresh unless it was already replaced */
    rejectedToken: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type TokenRequest = Static<typeof TokenRequest>;

export const TokenResponse = Type.Object({
  accessToken: Type.String({ minLength: 1 }),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const UnauthorizedBody = Type.Object({ error: Type.Literal('unauthorized') });
export const BadRequestBody = Type.Object({ error: Type.Literal('bad_request'), message: Type.String() });
export const UnknownUserBody = Type.Object({ error: Type.Literal('unknown_user') });
export const ReauthRequiredBody = Type.Object({ error: Type.Literal('reauth_required'), message: Type.String() });
export const RateLimitedBody = Type.Object({
  error: Type.Literal('rate_limited'),
  retryAt: Type.String({ format: 'date-time' }),
  reason: Type.Union([Type.Literal('rate-limit'), Type.Literal('quota-exceeded')]),
});
export const UnavailableBody = Type.Object({ error: Type.Literal('unavailable'), message: Type.String() });

/** Every answer of the endpoint by status code (for the route's schema). */
export const TokenResponses = {
  200: TokenResponse,
  400: BadRequestBody,
  401: UnauthorizedBody,
  404: UnknownUserBody,
  409: ReauthRequiredBody,
  429: RateLimitedBody,
  503: UnavailableBody,
} as const;

export interface FetchAccessTokenOptions {
  /** where auth is reached, such as http://127.0.0.1:8081 */
  authUrl: string;
  /** AUTH_SERVICE_SECRET */
  secret: string;
  userId: string;
  rejectedToken?: string;
  /** default 15000 */
  timeoutMs?: number;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

/**
 * Asks auth for a fresh access token. Throws ReauthRequiredError (409: the user must log in again, never retry),
 * RateLimitedError (429: wait until `until`), TransientError (503, network failure, timeout, an answer that is not
 * the contract), PermanentError (400, 401, 404: a bug or a misconfiguration; rule `token-<status>`).
 */
export async function fetchAccessToken(options: FetchAccessTokenOptions): Promise<AccessToken> {
  const { authUrl, secret, userId, rejectedToken, timeoutMs = 15_000 } = options;
  registerSecret(secret);
  registerSecret(rejectedToken);
  const body: TokenRequest = rejectedToken === undefined ? { userId } : { userId, rejectedToken };
  let response: Response;
  let payload: unknown;
  try {
    response = await fetch(new URL(TOKEN_PATH, authUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    payload = await response.json().catch(() => undefined);
  } catch (error) {
    const what = error instanceof Error && error.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'failed';
    throw new TransientError(`token request to auth ${what}`, { cause: error });
  }
  return interpretTokenAnswer(userId, response.status, payload);
}

/** Maps one answer of the endpoint to a token or a typed error (exported for tests and other transports). */
export function interpretTokenAnswer(userId: string, status: number, payload: unknown): AccessToken {
  const message = (p: unknown) =>
    typeof (p as { message?: unknown } | undefined)?.message === 'string' ? (p as { message: string }).message : '';
  switch (status) {
    case 200: {
      if (!Value.Check(TokenResponse, payload)) throw new TransientError('auth answered 200 with a body that is not a token');
      registerSecret(payload.accessToken);
      return { accessToken: payload.accessToken, expiresAt: new Date(payload.expiresAt) };
    }
    case 409:
      throw new ReauthRequiredError(userId, message(payload) || `user ${userId} must log in again`);
    case 429: {
      if (Value.Check(RateLimitedBody, payload)) {
        return throwRateLimited(new Date(payload.retryAt), payload.reason);
      }
      return throwRateLimited(new Date(Date.now() + 60_000), 'rate-limit');
    }
    case 400:
      throw new PermanentError('token-bad-request', `auth refused the token request: ${message(payload) || 'bad request'}`);
    case 401:
      throw new PermanentError('token-unauthorized', 'auth refused the service secret (check AUTH_SERVICE_SECRET)');
    case 404:
      throw new PermanentError('token-unknown-user', `auth does not know user ${userId}`);
    default:
      throw new TransientError(`auth answered ${status}${message(payload) ? `: ${message(payload)}` : ''}`);
  }
}

function throwRateLimited(until: Date, reason: 'rate-limit' | 'quota-exceeded'): never {
  throw new RateLimitedError(until, reason, `Spotify asked to wait until ${until.toISOString()} (${reason})`);
}
