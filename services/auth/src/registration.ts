// What a login means, whether it came through the browser or the headless set-up: read who the user is, keep the
// refresh token encrypted, cache the access token, and register the extraction schedule unless an operator paused them.
import type { Queue } from 'bullmq';
import { registerSecret, scheduleUser, type Logger, type SecretBox } from '@playledger/common';
import type { Store, User } from '@playledger/store';
import { SCOPES, type SpotifyAccounts, type TokenGrant } from './spotify-port.ts';
import type { TokenCache } from './token-cache.ts';
import { refreshTokenContext } from './token-service.ts';

export interface RegistrationDeps {
  store: Store;
  spotify: SpotifyAccounts;
  cache: TokenCache;
  box: SecretBox;
  extractions: Queue;
  intervalMs: number;
  logger: Logger;
}

export async function registerLogin(
  deps: RegistrationDeps,
  grant: TokenGrant & { refreshToken: string },
  authorizedAt: Date | ((existing: User | null) => Date),
): Promise<User> {
  registerSecret(grant.accessToken);
  registerSecret(grant.refreshToken);
  const profile = await deps.spotify.getMe(grant.accessToken);
  const userId = profile.accountId ?? profile.id;
  const when = typeof authorizedAt === 'function' ? authorizedAt(await deps.store.getUser(userId)) : authorizedAt;
  const user = await deps.store.saveLogin({
    userId,
    spotifyId: profile.id,
    accountId: profile.accountId,
    displayName: profile.displayName,
    refreshToken: deps.box.seal(grant.refreshToken, refreshTokenContext(userId)),
    scope: grant.scope ?? SCOPES.join(' '),
    authorizedAt: when,
  });
  await deps.cache.put(userId, { accessToken: grant.accessToken, expiresAt: grant.expiresAt });
  if (user.status === 'paused') {
    deps.logger.info({ userId }, 'user logged in; paused by an operator, so no schedule');
  } else {
    await scheduleUser(deps.extractions, userId, deps.intervalMs);
    deps.logger.info({ userId, status: user.status }, 'user logged in; extraction scheduled');
  }
  return user;
}
