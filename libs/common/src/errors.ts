// Errors typed by what the caller must do. Code decides on `kind` (or instanceof), never on message text.

/** Something outside us failed for now (database down, Spotify 5xx, timeout): retry later with backoff. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  readonly kind = 'transient' as const;
}

/** The input itself is wrong and will stay wrong: never retry; dead-letter it with its rule. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly kind = 'permanent' as const;
  readonly rule: string;
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
  }
}

/** Spotify asked us to wait (429 rate limit or QUOTA_EXCEEDED): wait until `until`, without spending an attempt. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  readonly kind = 'rate-limited' as const;
  readonly until: Date;
  readonly reason: 'rate-limit' | 'quota-exceeded';
  constructor(until: Date, reason: 'rate-limit' | 'quota-exceeded', message: string, options?: ErrorOptions) {
    super(message, options);
    this.until = until;
    this.reason = reason;
  }
}

/** The user's grant is gone (invalid_grant, revoked, expired): the user must log in again; do not retry. */
export class ReauthRequiredError extends Error {
  override readonly name = 'ReauthRequiredError';
  readonly kind = 'reauth-required' as const;
  readonly userId: string;
  constructor(userId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.userId = userId;
  }
}

export type ActionableError = TransientError | PermanentError | RateLimitedError | ReauthRequiredError;
export type ErrorKind = ActionableError['kind'];

/** What to do with any thrown value; unknown errors are treated as transient (retried, then dead-lettered). */
export function errorKind(error: unknown): ErrorKind {
  if (
    error instanceof TransientError ||
    error instanceof PermanentError ||
    error instanceof RateLimitedError ||
    error instanceof ReauthRequiredError
  ) {
    return error.kind;
  }
  return 'transient';
}
