// The SQL Server adapter. Without a server: the URL parser and the pure SQL-building helpers, always. With one
// (TEST_MSSQL_URL, or a container runtime for testcontainers): the conformance suite, the migration lock between two
// stores and the original ETL's table kept. Where no SQL Server can be reached, the suites are registered as SKIPPED
// and the test output says "SQL Server adapter NOT verified: <reason>": never counted as passed.
import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, type LoadJob, type Logger } from '@playledger/common';
import { catalogRows } from '../src/shared/catalog.ts';
import { decideGaps } from '../src/shared/gaps.ts';
import { MIGRATIONS as PG_MIGRATIONS } from '../src/postgres/migrations.ts';
import { userLockName } from '../src/mssql/db.ts';
import { decisionsJson, sqlInstant } from '../src/mssql/extractions.ts';
import { sortMigrations } from '../src/mssql/migrate.ts';
import { MssqlStore } from '../src/mssql/mssql-store.ts';
import { batchJson, COUNT_UNKNOWN, LOAD_BATCH, PLAY_SELECT } from '../src/mssql/plays.ts';
import { MIGRATIONS } from '../src/mssql/schema.ts';
import { parseMssqlUrl, quoteIdent, withDatabase } from '../src/mssql/url.ts';
import { describeStoreConformance, type PlayedTrackViewRow } from './conformance.ts';

// ---------- where is a SQL Server? (decided before any test is defined) ----------

interface Server {
  /** the server's URL with a database path that the tests replace */
  url: string;
  stop: () => Promise<void>;
}

async function findSqlServer(): Promise<{ server: Server } | { reason: string }> {
  const url = process.env.TEST_MSSQL_URL;
  if (url) return { server: { url, stop: () => Promise.resolve() } };
  let runtime: unknown;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    runtime = await getContainerRuntimeClient();
  } catch (error) {
    return {
      reason: `TEST_MSSQL_URL is not set and no container runtime was found (${(error as Error).message})`,
    };
  }
  if (!runtime) return { reason: 'TEST_MSSQL_URL is not set and no container runtime was found' };
  try {
    const { MSSQLServerContainer } = await import('@testcontainers/mssqlserver');
    const password = `Pl-${randomBytes(12).toString('hex')}!`;
    const container = await new MSSQLServerContainer('mcr.microsoft.com/mssql/server:2022-latest')
      .acceptLicense()
      .withPassword(password)
      .start();
    const serverUrl =
      `mssql://sa:${encodeURIComponent(password)}@${container.getHost()}:${container.getPort()}/master` +
      '?encrypt=false&trustServerCertificate=true';
    return { server: { url: serverUrl, stop: async () => void (await container.stop()) } };
  } catch (error) {
    return { reason: `a container runtime exists but SQL Server did not start: ${(error as Error).message}` };
  }
}

const found = await findSqlServer();
const server = 'server' in found ? found.server : null;
if (!server) console.warn(`SQL Server adapter NOT verified: ${'reason' in found ? found.reason : 'unknown'}`);

const quiet = (): Logger => createLogger({ name: 'mssql-test', level: 'error' });

function capture(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'mssql-test',
    level: 'info',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { lines, logger };
}

/** The server URL naming a new database (not created: migrate creates it, which is tested that way). */
function freshDatabaseUrl(label: string): { url: string; name: string } {
  if (!server) throw new Error('no SQL Server');
  const name = `pl_${label}_${randomBytes(4).toString('hex')}`;
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

async function withMaster<T>(work: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
  if (!server) throw new Error('no SQL Server');
  const pool = new sql.ConnectionPool(withDatabase(parseMssqlUrl(server.url), 'master'));
  await pool.connect();
  try {
    return await work(pool);
  } finally {
    await pool.close();
  }
}

async function dropDatabase(name: string): Promise<void> {
  await withMaster(async (pool) => {
    const db = quoteIdent(name);
    await pool
      .request()
      .batch(
        `IF DB_ID(N'${name}') IS NOT NULL BEGIN ALTER DATABASE ${db} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${db}; END`,
      );
  });
}

async function onDatabase<T>(url: string, work: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
  const pool = new sql.ConnectionPool({ ...parseMssqlUrl(url).config, pool: { max: 1 } });
  await pool.connect();
  try {
    return await work(pool);
  } finally {
    await pool.close();
  }
}

// ---------- with a server ----------

// registered either way, so that without a server every conformance test is reported as skipped
// the container (when one was started) lives until every suite of this file has run
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!server)('SQL Server adapter', () => {
  describeStoreConformance('mssql', () => {
    const { url, name } = freshDatabaseUrl('conf');
    const store = new MssqlStore({ kind: 'mssql', url, logger: quiet() });
    const view = new sql.ConnectionPool({ ...parseMssqlUrl(url).config, pool: { max: 1 } });
    return Promise.resolve({
      store,
      async cleanup() {
        await store.close();
        await view.close();
        await dropDatabase(name);
      },
      async readPlayedTracksView(userId: string) {
        if (!view.connected) await view.connect();
        const r = await view
          .request()
          .input('user_id', sql.NVarChar(128), userId)
          .query<PlayedTrackViewRow>(
            `SELECT primary_key, song_name, artist_name, [timestamp] FROM my_played_tracks
             WHERE user_id = @user_id ORDER BY primary_key COLLATE Latin1_General_100_BIN2`,
          );
        return r.recordset.map((row) => ({ ...row }));
      },
    });
  });
});

describe.skipIf(!server)('SQL Server migrations', () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropDatabase(name);
  });

  it('creates the database, and two stores migrating at once apply each version once, one waiting on the lock', async () => {
    const { url, name } = freshDatabaseUrl('lock');
    created.push(name);
    const slow = { version: '9001', name: 'test: hold the lock', steps: ["WAITFOR DELAY '00:00:02'"] };
    const a = capture();
    const b = capture();
    const storeA = new MssqlStore({ kind: 'mssql', url, logger: a.logger, extraMigrations: [slow] });
    const storeB = new MssqlStore({ kind: 'mssql', url, logger: b.logger, extraMigrations: [slow] });
    try {
      // the database exists before both race for the lock (creation itself is raced too: 1801 is tolerated)
      const [ra, rb] = await Promise.all([storeA.migrate(), storeB.migrate()]);
      const all = [...ra.applied, ...rb.applied].sort();
      expect(all).toEqual([...MIGRATIONS.map((m) => m.version), '9001'].sort());
      const waited = [...a.lines, ...b.lines].filter((l) => String(l.msg).startsWith('waiting for the migration lock'));
      expect(waited.length).toBe(1);
      const versions = await onDatabase(
        url,
        async (pool) =>
          (await pool.request().query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version'))
            .recordset,
      );
      expect(versions.map((v) => v.version)).toEqual(sortMigrations([...MIGRATIONS, slow]).map((m) => m.version));
      expect((await storeA.migrate()).applied).toEqual([]);
    } finally {
      await storeA.close();
      await storeB.close();
    }
  });

  it("keeps the original ETL's table my_played_tracks as my_played_tracks_legacy, and says so", async () => {
    const { url, name } = freshDatabaseUrl('legacy');
    created.push(name);
    await withMaster((pool) => pool.request().batch(`CREATE DATABASE ${quoteIdent(name)}`));
    await onDatabase(url, async (pool) => {
      await pool.request().batch(
        `CREATE TABLE my_played_tracks (song_name NVARCHAR(200), artist_name NVARCHAR(200),
           played_at NVARCHAR(50) PRIMARY KEY, [timestamp] NVARCHAR(20));
         INSERT INTO my_played_tracks VALUES (N'Old song', N'Old artist', N'2021-01-01T10:00:00.000Z', N'2021-01-01');`,
      );
    });
    const { lines, logger } = capture();
    const store = new MssqlStore({ kind: 'mssql', url, logger });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    const warned = lines.find((l) => l.level === 40 && l.renamedTo === 'my_played_tracks_legacy');
    expect(warned).toBeDefined();
    await onDatabase(url, async (pool) => {
      const legacy = await pool.request().query<{ song_name: string }>('SELECT song_name FROM my_played_tracks_legacy');
      expect(legacy.recordset.map((r) => r.song_name)).toEqual(['Old song']);
      const kind = await pool
        .request()
        .query<{ kind: string }>(`SELECT RTRIM(type) AS kind FROM sys.objects WHERE name = N'my_played_tracks'`);
      expect(kind.recordset[0]?.kind).toBe('V');
    });
  });
});

// ---------- always: no server needed ----------

describe('SQL Server adapter without a server', () => {
  describe('parseMssqlUrl', () => {
    it('reads user, password, host, port, database and the TLS options', () => {
      const t = parseMssqlUrl(
        'mssql://app:p%40ss%3Aword@db.example:1444/playledger?encrypt=true&trustServerCertificate=true',
      );
      expect(t.config).toMatchObject({
        server: 'db.example',
        port: 1444,
        user: 'app',
        password: 'p@ss:word',
        database: 'playledger',
        options: { encrypt: true, trustServerCertificate: true, useUTC: true, abortTransactionOnError: true },
      });
      expect(t.database).toBe('playledger');
      expect(t.display).toBe('db.example:1444/playledger');
      expect(t.display).not.toContain('p@ss');
    });

    it('accepts sqlserver://, defaults port 1433, encryption on and certificate checks on', () => {
      const t = parseMssqlUrl('sqlserver://sa:x@localhost/db');
      expect(t.config.port).toBe(1433);
      expect(t.config.options?.encrypt).toBe(true);
      expect(t.config.options?.trustServerCertificate).toBe(false);
    });

    it('takes encrypt=false, option names in any case, timeouts, a named instance (no port then) and the pool size', () => {
      const t = parseMssqlUrl(
        'mssql://u:p@host/db?Encrypt=false&TRUSTSERVERCERTIFICATE=1&connectTimeout=5000&requestTimeout=60000&instanceName=SQLEXPRESS',
        4,
      );
      expect(t.config.options).toMatchObject({
        encrypt: false,
        trustServerCertificate: true,
        instanceName: 'SQLEXPRESS',
      });
      expect(t.config.port).toBeUndefined();
      expect(t.config.connectionTimeout).toBe(5000);
      expect(t.config.requestTimeout).toBe(60000);
      expect(t.config.pool?.max).toBe(4);
      expect(t.display).toBe('host\\SQLEXPRESS/db');
    });

    it('a URL without a database names none (the login default)', () => {
      expect(parseMssqlUrl('mssql://u:p@host:1433').database).toBeNull();
      expect(parseMssqlUrl('mssql://u:p@host:1433/').config.database).toBeUndefined();
    });

    it('rejects other schemes, bad flags and paths, never repeating the password', () => {
      const secret = 'Sup3rSecret!';
      const bad = [
        `postgres://u:${secret}@host/db`,
        `mssql://u:${secret}@host/db?encrypt=maybe`,
        `mssql://u:${secret}@host/db/extra`,
        `mssql://u:${secret}@host/db?requestTimeout=soon`,
        'not a url',
      ];
      for (const url of bad) {
        let message = '';
        try {
          parseMssqlUrl(url);
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message, url).not.toBe('');
        expect(message).not.toContain(secret);
      }
    });

    it('withDatabase points the same server at master with a pool of one', () => {
      const c = withDatabase(parseMssqlUrl('mssql://u:p@h:1433/app'), 'master');
      expect(c.database).toBe('master');
      expect(c.server).toBe('h');
      expect(c.pool?.max).toBe(1);
    });

    it('a store with an unreachable server fails ping without the password in the error', async () => {
      const secret = 'An0therSecret!';
      const store = new MssqlStore({
        kind: 'mssql',
        url: `mssql://sa:${encodeURIComponent(secret)}@127.0.0.1:1/db?encrypt=false&connectTimeout=2000`,
        logger: quiet(),
      });
      let message = '';
      try {
        await store.ping();
      } catch (error) {
        message = String((error as Error).message);
      } finally {
        await store.close();
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(secret);
    });
  });

  describe('identifiers and values', () => {
    it('quoteIdent brackets names and doubles ]', () => {
      expect(quoteIdent('pl_x')).toBe('[pl_x]');
      expect(quoteIdent('a]b; DROP')).toBe('[a]]b; DROP]');
      expect(() => quoteIdent('')).toThrow();
      expect(() => quoteIdent('x'.repeat(129))).toThrow();
    });

    it('sqlInstant writes what DATETIME2(3) reads without a zone: UTC, milliseconds, no Z', () => {
      expect(sqlInstant(new Date('2026-06-05T23:45:36.176Z'))).toBe('2026-06-05T23:45:36.176');
      expect(sqlInstant(new Date('2026-06-06T00:20:00Z'))).toBe('2026-06-06T00:20:00.000');
      expect(sqlInstant(new Date('2026-06-06T02:20:00.5+02:00'))).toBe('2026-06-06T00:20:00.500');
    });

    it('user lock names fit sp_getapplock (255 characters)', () => {
      expect(userLockName('abc')).toBe('playledger-user-abc');
      expect(userLockName('x'.repeat(400)).length).toBe(255);
    });
  });

  describe('migrations', () => {
    it('have the same versions and names as the PostgreSQL adapter', () => {
      expect(MIGRATIONS.map((m) => [m.version, m.name])).toEqual(PG_MIGRATIONS.map((m) => [m.version, m.name]));
    });

    it('are sorted by version and refuse duplicates', () => {
      expect(
        sortMigrations([
          { version: '0002', name: 'b', steps: [] },
          { version: '0001', name: 'a', steps: [] },
        ]).map((m) => m.version),
      ).toEqual(['0001', '0002']);
      expect(() => sortMigrations([...MIGRATIONS, { version: '0001', name: 'again', steps: [] }])).toThrow(/duplicate/);
    });

    it('create the tables and columns the PostgreSQL schema has', () => {
      const tsql = MIGRATIONS.flatMap((m) => m.steps.filter((s): s is string => typeof s === 'string')).join('\n');
      const pgsql = PG_MIGRATIONS.map((m) => (typeof m.up === 'string' ? m.up : '')).join('\n');
      const tables = (text: string): string[] =>
        [...text.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1] ?? '').sort();
      expect(tables(tsql)).toEqual(tables(pgsql));
      for (const table of tables(pgsql)) {
        expect(columnsOf(tsql, table), table).toEqual(columnsOf(pgsql, table));
      }
    });
  });

  describe('the batch load', () => {
    const job: LoadJob = {
      extractionId: 'sched-1',
      userId: 'u1',
      fetchedAt: '2026-06-06T00:30:00.000Z',
      plays: [
        {
          playedAt: '2026-06-06T00:20:00Z',
          context: { type: 'playlist', uri: 'spotify:playlist:p1' },
          track: {
            uri: 'spotify:track:t1',
            id: 't1',
            name: 'Song',
            durationMs: 200_000,
            explicit: true,
            isrc: 'ISRC1',
            isLocal: false,
            discNumber: 1,
            trackNumber: 2,
            album: {
              uri: 'spotify:album:a1',
              id: 'a1',
              name: 'Album',
              albumType: 'album',
              releaseDate: '2024',
              artists: [{ uri: 'spotify:artist:r1', id: 'r1', name: 'Artist' }],
            },
            artists: [
              { uri: 'spotify:artist:r1', id: 'r1', name: 'Artist' },
              { uri: 'spotify:artist:r2', id: 'r2', name: 'Other' },
            ],
          },
        },
        {
          playedAt: '2026-06-05T23:45:36.176Z',
          context: null,
          track: {
            uri: 'spotify:local:Someone:Somewhere:Local+Song:180',
            id: null,
            name: 'Local Song',
            durationMs: 180_000,
            explicit: false,
            isrc: null,
            isLocal: true,
            discNumber: null,
            trackNumber: null,
            album: { uri: null, id: null, name: 'Somewhere', albumType: null, releaseDate: null, artists: [] },
            artists: [{ uri: null, id: null, name: 'Someone' }],
          },
        },
      ],
      page: {
        fetched: 2,
        full: false,
        oldestPlayedAt: '2026-06-05T23:45:36.176Z',
        newestPlayedAt: '2026-06-06T00:20:00.000Z',
        deadLettered: 0,
        duplicatesCollapsed: 0,
      },
    };
    const document = JSON.parse(batchJson(catalogRows(job))) as Record<string, Record<string, unknown>[]>;

    it('sends instants as DATETIME2 text and booleans as bits', () => {
      expect(document.plays?.map((p) => p.played_at).sort()).toEqual([
        '2026-06-05T23:45:36.176',
        '2026-06-06T00:20:00.000',
      ]);
      expect(document.tracks?.map((t) => [t.uri, t.explicit, t.is_local])).toEqual([
        ['spotify:local:Someone:Somewhere:Local+Song:180', 0, 1],
        ['spotify:track:t1', 1, 0],
      ]);
    });

    it('every OPENJSON of the load and the count reads a list the document has, with columns its rows have', () => {
      const reads = [...openJsonReads(LOAD_BATCH), ...openJsonReads(COUNT_UNKNOWN)];
      expect(reads.length).toBeGreaterThanOrEqual(8);
      for (const read of reads) {
        const rows = document[read.path];
        expect(rows, read.path).toBeDefined();
        expect(rows?.length, read.path).toBeGreaterThan(0);
        for (const row of rows ?? []) {
          for (const column of read.columns) expect(Object.keys(row), `${read.path}.${column}`).toContain(column);
        }
      }
    });

    it('the load, the count and the reads use only the parameters they bind and the variables they declare', () => {
      const load = [
        'user_id',
        'extraction_id',
        'trigger',
        'fetched_at',
        'batch',
        'window',
        'total_plays',
        'fetched',
        'dead_lettered',
        'page_full',
        'oldest',
        'newest',
      ];
      expect(undeclared(LOAD_BATCH)).toEqual(load.sort());
      expect(undeclared(COUNT_UNKNOWN)).toEqual(['batch', 'user_id', 'window']);
      expect(undeclared(PLAY_SELECT)).toEqual(['take']);
    });

    it('gap decisions travel as DATETIME2 text, null where no gap', () => {
      const decisions = decideGaps([
        { id: 'e1', state: 'done', pageFull: true, oldestPlayedAt: new Date('2026-06-05T10:00:00Z'), baseline: null },
        {
          id: 'e2',
          state: 'done',
          pageFull: true,
          oldestPlayedAt: new Date('2026-06-05T12:00:00.250Z'),
          baseline: new Date('2026-06-05T11:00:00Z'),
        },
      ]);
      expect(JSON.parse(decisionsJson(decisions))).toEqual([
        { extraction_id: 'e1', from_at: null, to_at: null },
        { extraction_id: 'e2', from_at: '2026-06-05T11:00:00.000', to_at: '2026-06-05T12:00:00.250' },
      ]);
    });
  });
});

// ---------- static reading of the T-SQL ----------

/** The column names of CREATE TABLE <table> (...) in either dialect, sorted. */
function columnsOf(text: string, table: string): string[] {
  const start = text.indexOf(`CREATE TABLE ${table} (`);
  if (start < 0) return [];
  const body = balanced(text, text.indexOf('(', start));
  return splitTopLevel(body.replace(/\/\*[\s\S]*?\*\/|--[^\n]*/g, ''))
    .map((part) => part.trim())
    .filter((part) => part && !/^(CONSTRAINT|PRIMARY KEY|UNIQUE)\b/i.test(part))
    .map((part) => (part.split(/\s+/)[0] ?? '').replace(/^\[|\]$/g, ''))
    .sort();
}

/** Each OPENJSON(@batch, '$.path') WITH (...): the path and the columns it reads. */
function openJsonReads(text: string): { path: string; columns: string[] }[] {
  const out: { path: string; columns: string[] }[] = [];
  for (const m of text.matchAll(/OPENJSON\(@batch, '\$\.(\w+)'\)\s*WITH \(/g)) {
    const body = balanced(text, (m.index ?? 0) + m[0].length - 1);
    out.push({
      path: m[1] ?? '',
      columns: splitTopLevel(body).map((c) => c.trim().split(/\s+/)[0] ?? ''),
    });
  }
  return out;
}

/** Variables used but not declared in the batch: the parameters it needs, sorted. */
function undeclared(text: string): string[] {
  const declared = new Set([...text.matchAll(/DECLARE @(\w+)/g)].map((m) => m[1]));
  const used = new Set([...text.matchAll(/(?<!@)@(\w+)/g)].map((m) => m[1] ?? ''));
  return [...used].filter((v) => !declared.has(v)).sort();
}

/** The text inside the parenthesis that opens at `open`. */
function balanced(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced parentheses');
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
