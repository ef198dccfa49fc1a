// Spotify refresh tokens end six months after the user's original authorization (FACTS fact 23); refreshing does
// not extend them. These are the users who must log in again soon.
import type { Store, User } from '@playledger/store';

export const REFRESH_TOKEN_LIFETIME_MONTHS = 6;

export function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

export function refreshTokenEndsAt(authorizedAt: Date): Date {
  return addMonths(authorizedAt, REFRESH_TOKEN_LIFETIME_MONTHS);
}

export interface ExpiringUser {
  userId: string;
  displayName: string | null;
  status: User['status'];
  authorizedAt: string;
  refreshTokenEndsAt: string;
  reloginUrl: string;
}

/** Users whose refresh token ends within `withinDays` of `now` (already ended ones included), oldest first. */
export async function listExpiringUsers(
  store: Store,
  now: Date,
  withinDays: number,
  reloginUrl: string,
): Promise<ExpiringUser[]> {
  const horizon = new Date(now.getTime() + withinDays * 86_400_000);
  // inclusive: a token ending exactly at the horizon is listed (the store's bound is exclusive)
  const authorizedBefore = new Date(addMonths(horizon, -REFRESH_TOKEN_LIFETIME_MONTHS).getTime() + 1);
  const users = await store.listUsersAuthorizedBefore(authorizedBefore);
  return users
    .filter((u) => refreshTokenEndsAt(u.authorizedAt) <= horizon)
    .map((u) => ({
      userId: u.userId,
      displayName: u.displayName,
      status: u.status,
      authorizedAt: u.authorizedAt.toISOString(),
      refreshTokenEndsAt: refreshTokenEndsAt(u.authorizedAt).toISOString(),
      reloginUrl,
    }));
}
