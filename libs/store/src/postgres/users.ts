// Users and their encrypted credentials.
import type { Credentials, EncryptedValue, User, UserLogin, UserStatus } from '../types.ts';
import type { Queryable } from './db.ts';
import { toUser, type UserRow } from './rows.ts';

export async function saveLogin(db: Queryable, login: UserLogin): Promise<User> {
  // needs_reauth becomes active again (with its reason cleared); an operator's pause stays
  const user = await db.query<UserRow>(
    `INSERT INTO users AS u (user_id, spotify_id, account_id, display_name, status, status_reason, authorized_at)
     VALUES ($1, $2, $3, $4, 'active', NULL, $5)
     ON CONFLICT (user_id) DO UPDATE SET
       spotify_id = excluded.spotify_id,
       account_id = excluded.account_id,
       display_name = excluded.display_name,
       authorized_at = excluded.authorized_at,
       status = CASE WHEN u.status = 'paused' THEN 'paused' ELSE 'active' END,
       status_reason = CASE WHEN u.status = 'paused' THEN u.status_reason ELSE NULL END,
       updated_at = now()
     RETURNING *`,
    [login.userId, login.spotifyId, login.accountId, login.displayName, login.authorizedAt],
  );
  await db.query(
    `INSERT INTO user_credentials (user_id, key_id, ciphertext, scope) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, ciphertext = excluded.ciphertext,
       scope = excluded.scope, updated_at = now()`,
    [login.userId, login.refreshToken.keyId, login.refreshToken.ciphertext, login.scope],
  );
  return toUser(user.rows[0] as UserRow);
}

export async function getUser(db: Queryable, userId: string): Promise<User | null> {
  const r = await db.query<UserRow>('SELECT * FROM users WHERE user_id = $1', [userId]);
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function listUsers(db: Queryable, filter?: { status?: UserStatus }): Promise<User[]> {
  const r = await db.query<UserRow>('SELECT * FROM users WHERE ($1::text IS NULL OR status = $1) ORDER BY user_id', [
    filter?.status ?? null,
  ]);
  return r.rows.map(toUser);
}

export async function setUserStatus(
  db: Queryable,
  userId: string,
  status: UserStatus,
  reason: string | null,
): Promise<User | null> {
  const r = await db.query<UserRow>(
    'UPDATE users SET status = $2, status_reason = $3, updated_at = now() WHERE user_id = $1 RETURNING *',
    [userId, status, reason],
  );
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function getCredentials(db: Queryable, userId: string): Promise<Credentials | null> {
  const r = await db.query<{ user_id: string; key_id: string; ciphertext: string; scope: string; updated_at: Date }>(
    'SELECT * FROM user_credentials WHERE user_id = $1',
    [userId],
  );
  const row = r.rows[0];
  if (!row) return null;
  return {
    userId: row.user_id,
    refreshToken: { keyId: row.key_id, ciphertext: row.ciphertext },
    scope: row.scope,
    updatedAt: row.updated_at,
  };
}

export async function updateRefreshToken(db: Queryable, userId: string, token: EncryptedValue): Promise<void> {
  await db.query('UPDATE user_credentials SET key_id = $2, ciphertext = $3, updated_at = now() WHERE user_id = $1', [
    userId,
    token.keyId,
    token.ciphertext,
  ]);
}

export async function listUsersAuthorizedBefore(db: Queryable, before: Date): Promise<User[]> {
  const r = await db.query<UserRow>('SELECT * FROM users WHERE authorized_at < $1 ORDER BY authorized_at, user_id', [
    before,
  ]);
  return r.rows.map(toUser);
}

/** Inside a transaction: the user and credentials; with purgePlays also everything kept about the user. */
export async function deleteUser(db: Queryable, userId: string, purgePlays: boolean): Promise<boolean> {
  if (purgePlays) {
    for (const table of ['plays', 'gaps', 'dead_letters', 'extractions']) {
      await db.query(`DELETE FROM ${table} WHERE user_id = $1`, [userId]);
    }
  }
  const r = await db.query('DELETE FROM users WHERE user_id = $1', [userId]);
  return (r.rowCount ?? 0) > 0;
}
