// One HTTP exchange with Spotify: fetch with a timeout, the body read as text, network failures and timeouts turned
// into TransientError, and every call counted. Interpreting the status and body is the caller's (client.ts).
import { RateLimitedError, TransientError, redactString, type Logger } from '@playledger/common';

export type Endpoint = 'token' | 'me' | 'recently-played';

export interface CallCounter {
  inc(labels: { endpoint: string; outcome: string }): void;
}

export interface Transport {
  timeoutMs: number;
  logger: Logger;
  metrics?: { spotifyCalls: CallCounter } | undefined;
  now: () => number;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

export function count(t: Transport, endpoint: Endpoint, outcome: string): void {
  t.metrics?.spotifyCalls.inc({ endpoint, outcome });
}

/** Sends the request; resolves with status, headers and body text, or throws TransientError (counted). */
export async function exchange(t: Transport, endpoint: Endpoint, url: string, init: RequestInit): Promise<RawResponse> {
  try {
    const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(t.timeoutMs) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    if (isTimeout(error)) {
      count(t, endpoint, 'timeout');
      throw new TransientError(`Spotify ${endpoint}: no answer within ${t.timeoutMs} ms`, { cause: error });
    }
    count(t, endpoint, 'network-error');
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
    throw new TransientError(`Spotify ${endpoint}: network error ${redactString(reason)}`.trim(), { cause: error });
  }
}

/** The parsed JSON body, or undefined when the body is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (or an HTTP date) → the instant to wait for; undefined when absent or unreadable. */
export function retryAfter(headers: Headers, now: number): Date | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(now + Math.ceil(Number(value) * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : new Date(Math.max(date, now));
}

export interface RateLimitOptions {
  quotaPauseMs: number;
  defaultRetryAfterMs: number;
}

/** A 429: QUOTA_EXCEEDED (body reason, FACTS 24) apart from a rate limit (FACTS 27). Counts the call. */
export function rateLimited(
  t: Transport,
  endpoint: Endpoint,
  response: RawResponse,
  body: unknown,
  o: RateLimitOptions,
): RateLimitedError {
  const now = t.now();
  const reason = (body as { error?: { reason?: unknown } } | undefined)?.error?.reason;
  const header = retryAfter(response.headers, now);
  if (reason === 'QUOTA_EXCEEDED') {
    count(t, endpoint, '429-quota-exceeded');
    const until = header ?? new Date(now + o.quotaPauseMs);
    return new RateLimitedError(
      until,
      'quota-exceeded',
      `Spotify ${endpoint}: 429 QUOTA_EXCEEDED (development-mode quota); pause until ${until.toISOString()}` +
        (header ? ' (Retry-After)' : ' (no Retry-After: configured pause)'),
    );
  }
  count(t, endpoint, '429');
  const until = header ?? new Date(now + o.defaultRetryAfterMs);
  return new RateLimitedError(
    until,
    'rate-limit',
    `Spotify ${endpoint}: 429 rate limit; wait until ${until.toISOString()}` +
      (header ? ' (Retry-After)' : ' (no Retry-After: default wait)'),
  );
}
