// PostgreSQL migrations: replicas migrating at once (two real processes), and the original ETL's table kept.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@playledger/common';
import { createTestDatabase } from '../../../test/support/postgres.ts';
import { PostgresStore } from '../src/postgres/postgres-store.ts';
import { MIGRATIONS } from '../src/postgres/migrations.ts';

const CHILD = fileURLToPath(new URL('./support/migrate-child.ts', import.meta.url));

interface ChildOutcome {
  name: string;
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function runChild(name: string, url: string): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, DATABASE_URL: url, CHILD_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ name, code, lines, stderr });
    });
  });
}

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'migrations-test',
    level: 'info',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { lines, logger };
}

describe('PostgreSQL migrations', () => {
  it('two processes migrating one fresh database at once: each version applied once, the second waits on the lock', async () => {
    const db = await createTestDatabase('store_migrate_lock');
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    try {
      let running = true;
      let sawWaiter = false;
      const children = Promise.all([runChild('replica-a', db.url), runChild('replica-b', db.url)]).finally(() => {
        running = false;
      });
      while (running) {
        const r = await watcher.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_locks
           WHERE locktype = 'advisory' AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        if (Number(r.rows[0]?.n) > 0) sawWaiter = true;
        await new Promise((r) => setTimeout(r, 50));
      }
      const outcomes = await children;
      for (const o of outcomes) expect(o.code, `${o.name} failed: ${o.stderr}`).toBe(0);

      const applied = outcomes.map(
        (o) => (o.lines.find((l) => 'result' in l)?.result as { applied: string[] } | undefined)?.applied ?? null,
      );
      const all = [...MIGRATIONS.map((m) => m.version), '9000'];
      expect(applied.flatMap((a) => a ?? []).sort()).toEqual(all);

      const waited = outcomes.filter((o) =>
        o.lines.some((l) => String(l.msg).startsWith('waiting for the migration lock')),
      );
      expect(waited.map((o) => o.name)).toHaveLength(1);
      const waiter = outcomes.indexOf(waited[0] as ChildOutcome);
      expect(applied[waiter]).toEqual([]);
      expect(sawWaiter).toBe(true);

      const recorded = await watcher.query<{ version: string }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(recorded.rows.map((r) => r.version)).toEqual(all);
    } finally {
      await watcher.end();
      await db.drop();
    }
  });

  it("renames the original ETL's table my_played_tracks to my_played_tracks_legacy, keeps its rows, and says so", async () => {
    const db = await createTestDatabase('store_legacy');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { lines, logger } = capture();
    const store = new PostgresStore({ kind: 'postgres', url: db.url, logger });
    try {
      await client.query(`CREATE TABLE my_played_tracks (
        song_name varchar(200), artist_name varchar(200), played_at varchar(200) PRIMARY KEY, "timestamp" varchar(200))`);
      await client.query(
        `INSERT INTO my_played_tracks VALUES ('Old Song', 'Old Artist', '2021-05-06T23:45:36.176Z', '2021-05-06')`,
      );
      await store.migrate();
      const warn = lines.find((l) => l.level === 40 && String(l.msg).includes('my_played_tracks_legacy'));
      expect(warn).toBeDefined();
      const kinds = await client.query<{ relname: string; relkind: string }>(
        `SELECT relname, relkind FROM pg_class WHERE relname IN ('my_played_tracks', 'my_played_tracks_legacy')
         ORDER BY relname`,
      );
      expect(kinds.rows).toEqual([
        { relname: 'my_played_tracks', relkind: 'v' },
        { relname: 'my_played_tracks_legacy', relkind: 'r' },
      ]);
      const legacy = await client.query('SELECT * FROM my_played_tracks_legacy');
      expect(legacy.rows).toEqual([
        {
          song_name: 'Old Song',
          artist_name: 'Old Artist',
          played_at: '2021-05-06T23:45:36.176Z',
          timestamp: '2021-05-06',
        },
      ]);

      lines.length = 0;
      expect(await store.migrate()).toEqual({ applied: [] });
      expect(lines.filter((l) => Number(l.level) >= 40)).toEqual([]);
    } finally {
      await store.close();
      await client.end();
      await db.drop();
    }
  });

  it('a database without the legacy table migrates without a warning', async () => {
    const db = await createTestDatabase('store_nolegacy');
    const { lines, logger } = capture();
    const store = new PostgresStore({ kind: 'postgres', url: db.url, logger });
    try {
      const { applied } = await store.migrate();
      expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(lines.filter((l) => Number(l.level) >= 40)).toEqual([]);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
