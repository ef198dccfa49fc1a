// Creates the database when the URL names one that does not exist, then applies migrations in one transaction that
// holds an exclusive application lock: replicas starting together wait for each other, each version is applied once
// and recorded in schema_migrations.
import sql from 'mssql';
import type { Logger } from '@playledger/common';
import { appLock, inTransaction, LOCK_GRANTED, type Db } from './db.ts';
import type { Migration } from './schema.ts';
import { withDatabase, type MssqlTarget } from './url.ts';

export const MIGRATION_LOCK = 'playledger-migrations';
/** how long a replica waits for another one's migrations */
export const MIGRATION_LOCK_TIMEOUT_MS = 10 * 60_000;
/** OPENJSON (the batch load) needs compatibility level 130 (SQL Server 2016) or later */
export const MIN_COMPATIBILITY_LEVEL = 130;
const CREATE_DATABASE_TIMEOUT_MS = 5 * 60_000;
/** a migration step may rebuild a large table: longer than the pool's request timeout */
export const MIGRATION_STEP_TIMEOUT_MS = 30 * 60_000;

/**
 * Connects to master and creates the database the URL names when it is missing. A login that cannot use master
 * (a contained user, Azure SQL) is not an error: the database then has to exist already.
 */
export async function ensureDatabase(target: MssqlTarget, logger: Logger): Promise<void> {
  if (!target.database) return;
  const master = new sql.ConnectionPool(withDatabase(target, 'master'));
  try {
    await master.connect();
  } catch (error) {
    logger.debug({ err: error, database: target.display }, 'cannot reach master; assuming the database exists');
    return;
  }
  try {
    // one connection (pool of one): the session lock serializes replicas creating the database at once
    const db: Db = master;
    const r = await db
      .request({ requestTimeout: CREATE_DATABASE_TIMEOUT_MS })
      .input('name', sql.NVarChar(128), target.database)
      .query<{ created: number }>(
        `DECLARE @code INT, @created INT = 0;
         EXEC @code = sp_getapplock @Resource = N'playledger-create-database', @LockMode = 'Exclusive',
           @LockOwner = 'Session', @LockTimeout = 60000;
         IF @code < 0 THROW 51000, N'could not take the database creation lock', 1;
         BEGIN TRY
           IF DB_ID(@name) IS NULL
           BEGIN
             -- CREATE DATABASE takes no parameters and cannot run in a transaction: the name is quoted
             DECLARE @statement NVARCHAR(400) = N'CREATE DATABASE ' + QUOTENAME(@name);
             EXEC (@statement);
             SET @created = 1;
           END
           EXEC sp_releaseapplock @Resource = N'playledger-create-database', @LockOwner = 'Session';
         END TRY
         BEGIN CATCH
           EXEC sp_releaseapplock @Resource = N'playledger-create-database', @LockOwner = 'Session';
           THROW;
         END CATCH
         SELECT @created AS created;`,
      );
    if (r.recordset[0]?.created === 1) logger.info({ database: target.display }, 'database created');
  } finally {
    await master.close();
  }
}

export async function migrate(
  pool: sql.ConnectionPool,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<{ applied: string[] }> {
  const sorted = sortMigrations(migrations);
  return inTransaction(pool, async (tx) => {
    let code = await appLock(tx, MIGRATION_LOCK, 0);
    if (code === -1) {
      logger.info('waiting for the migration lock: another process is migrating this database');
      code = await appLock(tx, MIGRATION_LOCK, MIGRATION_LOCK_TIMEOUT_MS);
      if (LOCK_GRANTED(code)) logger.info('migration lock acquired after waiting');
    }
    if (!LOCK_GRANTED(code)) throw new Error(`could not take the migration lock (sp_getapplock returned ${code})`);

    const level = await tx
      .request()
      .query<{ compatibility: number }>(
        'SELECT compatibility_level AS compatibility FROM sys.databases WHERE database_id = DB_ID()',
      );
    const compatibility = level.recordset[0]?.compatibility ?? 0;
    if (compatibility < MIN_COMPATIBILITY_LEVEL) {
      throw new Error(
        `the database's compatibility level is ${compatibility}; playledger needs ${MIN_COMPATIBILITY_LEVEL} or later (ALTER DATABASE ... SET COMPATIBILITY_LEVEL = 130)`,
      );
    }

    await tx.request().batch(`IF OBJECT_ID(N'schema_migrations', N'U') IS NULL
      CREATE TABLE schema_migrations (
        version NVARCHAR(50) NOT NULL CONSTRAINT pk_schema_migrations PRIMARY KEY,
        name NVARCHAR(400) NOT NULL,
        applied_at DATETIME2(3) NOT NULL CONSTRAINT df_schema_migrations_applied_at DEFAULT SYSUTCDATETIME()
      )`);
    const done = new Set(
      (await tx.request().query<{ version: string }>('SELECT version FROM schema_migrations')).recordset.map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of sorted) {
      if (done.has(m.version)) continue;
      logger.info({ version: m.version, migration: m.name }, 'applying migration');
      for (const step of m.steps) {
        // each step is its own batch: CREATE VIEW must be the only statement of its batch
        const db: Db = tx;
        const request = (): sql.Request => db.request({ requestTimeout: MIGRATION_STEP_TIMEOUT_MS });
        if (typeof step === 'string') await request().batch(step);
        else await step({ request, logger });
      }
      await tx
        .request()
        .input('version', sql.NVarChar(50), m.version)
        .input('name', sql.NVarChar(400), m.name)
        .query('INSERT INTO schema_migrations (version, name) VALUES (@version, @name)');
      applied.push(m.version);
    }
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
    return { applied };
  });
}

export function sortMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.version === sorted[i - 1]?.version)
      throw new Error(`duplicate migration version ${sorted[i]?.version}`);
  }
  return sorted;
}
