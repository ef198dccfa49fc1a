// A separate process that migrates one database (DATABASE_URL) with the product's migrations plus a test migration
// that holds the migration lock for at least 2 s and until another session waits for an advisory lock (at most 30 s),
// so that the test can see the second migrating process wait. Logs JSON lines to stdout, then one result line.
import { createLogger } from '@playledger/common';
import { PostgresStore } from '../../src/postgres/postgres-store.ts';
import type { Migration } from '../../src/postgres/migrations.ts';

export const SLEEPING_MIGRATION: Migration = {
  version: '9000',
  name: 'test: hold the migration lock until another process waits',
  up: `DO $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  PERFORM pg_sleep(2);
  WHILE clock_timestamp() - started < interval '30 seconds' AND NOT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  ) LOOP
    PERFORM pg_sleep(0.1);
  END LOOP;
  PERFORM pg_sleep(1);
END $$`,
};

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const name = process.env.CHILD_NAME ?? 'migrate-child';
  const logger = createLogger({ name, level: 'info', destination: process.stdout });
  const store = new PostgresStore({ kind: 'postgres', url, logger, extraMigrations: [SLEEPING_MIGRATION] });
  try {
    const result = await store.migrate();
    process.stdout.write(`${JSON.stringify({ result })}\n`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
