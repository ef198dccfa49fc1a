// Applies migrations under a session advisory lock: replicas starting together wait for each other, each version is
// applied once and recorded in schema_migrations.
import type { Pool } from 'pg';
import type { Logger } from '@playledger/common';
import type { Migration } from './migrations.ts';
import { checkout } from './db.ts';
import { MIGRATION_LOCK } from './locks.ts';

export async function migrate(
  pool: Pool,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<{ applied: string[] }> {
  const sorted = [...migrations].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.version === sorted[i - 1]?.version)
      throw new Error(`duplicate migration version ${sorted[i]?.version}`);
  }
  const { client, release } = await checkout(pool);
  let locked = false;
  try {
    const tried = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', MIGRATION_LOCK);
    if (tried.rows[0]?.ok !== true) {
      logger.info('waiting for the migration lock: another process is migrating this database');
      await client.query('SELECT pg_advisory_lock($1, $2)', MIGRATION_LOCK);
      logger.info('migration lock acquired after waiting');
    }
    locked = true;
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    text PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz(3) NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of sorted) {
      if (done.has(m.version)) continue;
      logger.info({ version: m.version, migration: m.name }, 'applying migration');
      await client.query('BEGIN');
      try {
        if (typeof m.up === 'string') await client.query(m.up);
        else await m.up(client, logger);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(m.version);
    }
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
    return { applied };
  } finally {
    try {
      if (locked) await client.query('SELECT pg_advisory_unlock($1, $2)', MIGRATION_LOCK);
    } finally {
      release();
    }
  }
}
