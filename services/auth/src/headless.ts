// Headless set-up (as in the original ETL): a refresh token given in config registers its user at start-up, so a
// server with no browser can run. A refused token does not stop the service: the user (if stored) keeps the token
// stored last, which may be a rotation of the configured one.
import { ReauthRequiredError, errorKind, registerSecret, type Logger } from '@playledger/common';
import type { User } from '@playledger/store';
import { registerLogin, type RegistrationDeps } from './registration.ts';
import type { Clock } from './clock.ts';

export interface HeadlessOptions {
  refreshToken: string;
  clock: Clock;
  logger: Logger;
  attempts?: number;
  backoffMs?: number;
}

export async function registerHeadlessUser(deps: RegistrationDeps, o: HeadlessOptions): Promise<User | null> {
  registerSecret(o.refreshToken);
  const attempts = o.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const grant = await deps.spotify.refresh(o.refreshToken);
      // Spotify may rotate the token: keep the newest; refreshing does not extend the six-month lifetime, so a
      // known active user keeps their authorization time.
      const user = await registerLogin(deps, { ...grant, refreshToken: grant.refreshToken ?? o.refreshToken }, (existing) =>
        existing && existing.status === 'active' ? existing.authorizedAt : o.clock.now(),
      );
      o.logger.info({ userId: user.userId }, 'headless set-up: user from SPOTIFY_REFRESH_TOKEN registered');
      return user;
    } catch (error) {
      if (error instanceof ReauthRequiredError) {
        o.logger.warn(
          { err: error },
          'headless set-up: Spotify refused SPOTIFY_REFRESH_TOKEN (invalid_grant); a user registered before keeps the token stored last. Log in at /login or set a new token.',
        );
        return null;
      }
      const kind = errorKind(error);
      if (kind === 'permanent' || attempt >= attempts) {
        o.logger.error({ err: error, attempt }, 'headless set-up failed; the service runs without registering this user');
        return null;
      }
      const wait = (o.backoffMs ?? 1_000) * 2 ** (attempt - 1);
      o.logger.warn({ err: error, attempt, retryInMs: wait }, 'headless set-up: Spotify not reachable, retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
