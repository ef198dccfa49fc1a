// What the query modules need from mssql: something that makes requests (the pool, or a transaction), transactions
// that always end, and application locks (sp_getapplock) owned by a transaction.
import sql from 'mssql';
import { TransientError, type Logger } from '@playledger/common';

/** A ConnectionPool or a Transaction: requests made from a Transaction run on its one connection. */
export interface Db {
  /** mssql takes per-request overrides at run time (its type declarations omit them) */
  request(overrides?: { requestTimeout?: number }): sql.Request;
}

/**
 * Runs `work` in one transaction. XACT_ABORT is on for every connection (abortTransactionOnError), so a failed
 * statement has already rolled the server's transaction back; the rollback here then only releases the connection.
 */
export async function inTransaction<T>(
  pool: sql.ConnectionPool,
  work: (tx: sql.Transaction) => Promise<T>,
  isolation: number = sql.ISOLATION_LEVEL.READ_COMMITTED,
): Promise<T> {
  const tx = new sql.Transaction(pool);
  let aborted = false;
  tx.on('rollback', (byServer: boolean) => {
    if (byServer) aborted = true;
  });
  await tx.begin(isolation);
  try {
    const result = await work(tx);
    await tx.commit();
    return result;
  } catch (error) {
    if (!aborted) await tx.rollback().catch(() => undefined);
    throw error;
  }
}

/** sp_getapplock return codes: 0 granted, 1 granted after waiting, -1 timeout, -2 cancelled, -3 deadlock, -999 error. */
export const LOCK_GRANTED = (code: number): boolean => code >= 0;

/**
 * Takes an exclusive application lock owned by the transaction (released at commit or rollback).
 * Returns sp_getapplock's code; the caller decides what a timeout means.
 */
export async function appLock(tx: Db, resource: string, timeoutMs: number): Promise<number> {
  // the wait is bounded by @LockTimeout; the client's request timeout must not end it first
  const r = await tx
    .request({ requestTimeout: timeoutMs + 15_000 })
    .input('resource', sql.NVarChar(255), resource)
    .input('timeout', sql.Int, timeoutMs)
    .query<{ code: number }>(
      `DECLARE @code INT;
       EXEC @code = sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Transaction',
         @LockTimeout = @timeout, @DbPrincipal = 'public';
       SELECT @code AS code;`,
    );
  return r.recordset[0]?.code ?? -999;
}

/** The lock that serializes loads and gap evaluations of one user. */
export function userLockName(userId: string): string {
  return `playledger-user-${userId}`.slice(0, 255);
}

export const USER_LOCK_TIMEOUT_MS = 30_000;

/** Takes the user's lock or throws (a timeout is transient: the job is retried). */
export async function lockUser(tx: Db, userId: string): Promise<void> {
  const code = await appLock(tx, userLockName(userId), USER_LOCK_TIMEOUT_MS);
  if (!LOCK_GRANTED(code)) {
    throw new TransientError(`could not take the lock of user ${userId} (sp_getapplock returned ${code})`);
  }
}

/** An idle connection failing must not crash the process: the pool makes a new one on the next request. */
export function watchPool(pool: sql.ConnectionPool, logger: Logger): void {
  pool.on('error', (error: unknown) => logger.warn({ err: error }, 'database connection failed'));
}
