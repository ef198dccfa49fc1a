// When refresh tokens end: six calendar months after the user authorized.
import type { Store, User } from '@playledger/store';
import { refreshTokenEndsAt } from './dto.ts';

const DAY_MS = 24 * 3600 * 1000;

/** Users whose refresh token ends at or before `horizon` (already ended ones included). */
export async function usersExpiringBefore(store: Store, horizon: Date): Promise<User[]> {
  // authorizedAt + 6 months <= horizon  <=>  authorizedAt <= horizon - 6 months (asked with a day of slack, then exact)
  const bound = new Date(horizon.getTime() + DAY_MS);
  bound.setUTCMonth(bound.getUTCMonth() - 6);
  const candidates = await store.listUsersAuthorizedBefore(bound);
  return candidates.filter((u) => refreshTokenEndsAt(u.authorizedAt) <= horizon);
}
