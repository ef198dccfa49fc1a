// The one error class this library adds to libs/common's: everything else is a TransientError, PermanentError,
// RateLimitedError or ReauthRequiredError from there.
import { TransientError } from '@playledger/common';

/**
 * Spotify answered 401 to an access token (expired, revoked or unknown; FACTS 24). The caller refreshes the token
 * once and retries; if the fresh token is rejected too, the caller gives up. It is a TransientError, so a caller
 * that does not handle it retries later rather than dead-lettering.
 */
export class AccessTokenRejectedError extends TransientError {
  readonly code = 'access-token-rejected' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, 'name', { value: 'AccessTokenRejectedError' });
  }
}
