// Users and their encrypted credentials.
import sql from 'mssql';
import type { Credentials, EncryptedValue, User, UserLogin, UserStatus } from '../types.ts';
import type { Db } from './db.ts';
import { toUser, type UserRow } from './rows.ts';

export const USER_ID_TYPE = sql.NVarChar(128);

/** Inside a transaction: the user (created or updated) and the credentials, each one race-free statement. */
export async function saveLogin(db: Db, login: UserLogin): Promise<User> {
  // needs_reauth becomes active again (with its reason cleared); an operator's pause stays
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, login.userId)
    .input('spotify_id', sql.NVarChar(255), login.spotifyId)
    .input('account_id', sql.NVarChar(255), login.accountId)
    .input('display_name', sql.NVarChar(1000), login.displayName)
    .input('authorized_at', sql.DateTime2(3), login.authorizedAt)
    .input('key_id', sql.NVarChar(100), login.refreshToken.keyId)
    .input('ciphertext', sql.NVarChar(sql.MAX), login.refreshToken.ciphertext)
    .input('scope', sql.NVarChar(sql.MAX), login.scope)
    .query<UserRow>(
      `MERGE users WITH (HOLDLOCK) AS u
       USING (SELECT @user_id AS user_id) AS s ON u.user_id = s.user_id
       WHEN MATCHED THEN UPDATE SET
         spotify_id = @spotify_id, account_id = @account_id, display_name = @display_name,
         authorized_at = @authorized_at,
         status = CASE WHEN u.status = 'paused' THEN 'paused' ELSE 'active' END,
         status_reason = CASE WHEN u.status = 'paused' THEN u.status_reason ELSE NULL END,
         updated_at = SYSUTCDATETIME()
       WHEN NOT MATCHED THEN
         INSERT (user_id, spotify_id, account_id, display_name, status, status_reason, authorized_at)
         VALUES (@user_id, @spotify_id, @account_id, @display_name, 'active', NULL, @authorized_at);
       MERGE user_credentials WITH (HOLDLOCK) AS c
       USING (SELECT @user_id AS user_id) AS s ON c.user_id = s.user_id
       WHEN MATCHED THEN UPDATE SET key_id = @key_id, ciphertext = @ciphertext, scope = @scope,
         updated_at = SYSUTCDATETIME()
       WHEN NOT MATCHED THEN INSERT (user_id, key_id, ciphertext, scope) VALUES (@user_id, @key_id, @ciphertext, @scope);
       SELECT * FROM users WHERE user_id = @user_id;`,
    );
  const row = r.recordset[0];
  if (!row) throw new Error(`user ${login.userId} vanished while being saved`);
  return toUser(row);
}

export async function getUser(db: Db, userId: string): Promise<User | null> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<UserRow>('SELECT * FROM users WHERE user_id = @user_id');
  return r.recordset[0] ? toUser(r.recordset[0]) : null;
}

export async function listUsers(db: Db, filter?: { status?: UserStatus }): Promise<User[]> {
  const req = db.request();
  let where = '';
  if (filter?.status) {
    req.input('status', sql.VarChar(20), filter.status);
    where = 'WHERE status = @status';
  }
  const r = await req.query<UserRow>(`SELECT * FROM users ${where} ORDER BY user_id`);
  return r.recordset.map(toUser);
}

export async function setUserStatus(
  db: Db,
  userId: string,
  status: UserStatus,
  reason: string | null,
): Promise<User | null> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .input('status', sql.VarChar(20), status)
    .input('reason', sql.NVarChar(sql.MAX), reason)
    .query<UserRow>(
      `UPDATE users SET status = @status, status_reason = @reason, updated_at = SYSUTCDATETIME()
       OUTPUT inserted.* WHERE user_id = @user_id`,
    );
  return r.recordset[0] ? toUser(r.recordset[0]) : null;
}

export async function getCredentials(db: Db, userId: string): Promise<Credentials | null> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<{ user_id: string; key_id: string; ciphertext: string; scope: string; updated_at: Date }>(
      'SELECT user_id, key_id, ciphertext, scope, updated_at FROM user_credentials WHERE user_id = @user_id',
    );
  const row = r.recordset[0];
  if (!row) return null;
  return {
    userId: row.user_id,
    refreshToken: { keyId: row.key_id, ciphertext: row.ciphertext },
    scope: row.scope,
    updatedAt: row.updated_at,
  };
}

export async function updateRefreshToken(db: Db, userId: string, token: EncryptedValue): Promise<void> {
  await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .input('key_id', sql.NVarChar(100), token.keyId)
    .input('ciphertext', sql.NVarChar(sql.MAX), token.ciphertext)
    .query(
      `UPDATE user_credentials SET key_id = @key_id, ciphertext = @ciphertext, updated_at = SYSUTCDATETIME()
       WHERE user_id = @user_id`,
    );
}

export async function listUsersAuthorizedBefore(db: Db, before: Date): Promise<User[]> {
  const r = await db
    .request()
    .input('before', sql.DateTime2(3), before)
    .query<UserRow>('SELECT * FROM users WHERE authorized_at < @before ORDER BY authorized_at, user_id');
  return r.recordset.map(toUser);
}

/** Inside a transaction holding the user's lock: the user and credentials; with purgePlays everything kept about them. */
export async function deleteUser(db: Db, userId: string, purgePlays: boolean): Promise<boolean> {
  const purge = purgePlays
    ? `DELETE FROM plays WHERE user_id = @user_id;
       DELETE FROM gaps WHERE user_id = @user_id;
       DELETE FROM dead_letters WHERE user_id = @user_id;
       DELETE FROM extractions WHERE user_id = @user_id;`
    : '';
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<{ deleted: number }>(
      `${purge}
       DELETE FROM users WHERE user_id = @user_id;
       SELECT @@ROWCOUNT AS deleted;`,
    );
  return (r.recordset[0]?.deleted ?? 0) > 0;
}
