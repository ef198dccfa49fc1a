// DATABASE_URL for SQL Server: mssql://user:password@host:1433/db?encrypt=true&trustServerCertificate=true
// (sqlserver:// too). Turned into an mssql (tedious) config; the password never appears in what is logged.
import type sql from 'mssql';

export interface MssqlTarget {
  config: sql.config;
  /** the database the URL names (created if missing by migrate); null when it names none */
  database: string | null;
  /** host:port/database, safe to log */
  display: string;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function flag(params: URLSearchParams, names: string[], fallback: boolean): boolean {
  for (const name of names) {
    for (const [key, value] of params) {
      if (key.toLowerCase() !== name.toLowerCase()) continue;
      const v = value.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new Error(`DATABASE_URL: ${key} must be true or false, got "${value}"`);
    }
  }
  return fallback;
}

function int(params: URLSearchParams, names: string[]): number | undefined {
  for (const name of names) {
    for (const [key, value] of params) {
      if (key.toLowerCase() !== name.toLowerCase()) continue;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`DATABASE_URL: ${key} must be a whole number, got "${value}"`);
      return n;
    }
  }
  return undefined;
}

function text(params: URLSearchParams, names: string[]): string | undefined {
  for (const name of names) {
    for (const [key, value] of params) if (key.toLowerCase() === name.toLowerCase() && value !== '') return value;
  }
  return undefined;
}

/**
 * Parses `mssql://` / `sqlserver://` URLs. Query options (case-insensitive): encrypt (default true),
 * trustServerCertificate (default false), instanceName, connectTimeout / connectionTimeout and requestTimeout (ms),
 * appName. Errors never repeat the URL (it holds the password).
 */
export function parseMssqlUrl(input: string, poolSize?: number): MssqlTarget {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL (expected mssql://user:password@host:1433/database)');
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'mssql' && scheme !== 'sqlserver') {
    throw new Error(`DATABASE_URL: expected the scheme mssql:// or sqlserver://, got ${scheme}://`);
  }
  const server = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
  if (!server) throw new Error('DATABASE_URL: the host is missing');
  const port = url.port ? Number(url.port) : 1433;
  const pathParts = url.pathname.split('/').filter((p) => p !== '');
  if (pathParts.length > 1) throw new Error('DATABASE_URL: the path must be /<database> only');
  const database = pathParts[0] ? decodeURIComponent(pathParts[0]) : null;
  const params = url.searchParams;
  const instanceName = text(params, ['instanceName', 'instance']);
  const connectionTimeout = int(params, ['connectTimeout', 'connectionTimeout']) ?? 15_000;
  const requestTimeout = int(params, ['requestTimeout']) ?? 30_000;

  const config: sql.config = {
    server,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: database ?? undefined,
    connectionTimeout,
    requestTimeout,
    pool: { max: poolSize ?? 10, min: 0, idleTimeoutMillis: 30_000 },
    options: {
      encrypt: flag(params, ['encrypt'], true),
      trustServerCertificate: flag(params, ['trustServerCertificate'], false),
      // a failed statement inside a transaction rolls the whole transaction back (and a client timeout too)
      abortTransactionOnError: true,
      useUTC: true,
      appName: text(params, ['appName', 'applicationName']) ?? 'playledger',
    },
  };
  // a named instance is found through the SQL Server Browser; then no port is set
  if (instanceName) config.options = { ...config.options, instanceName };
  else config.port = port;
  return {
    config,
    database,
    display: `${server}${instanceName ? `\\${instanceName}` : `:${port}`}/${database ?? ''}`,
  };
}

/** The same target with another database (master, to create the one the URL names). */
export function withDatabase(target: MssqlTarget, database: string): sql.config {
  return { ...target.config, database, pool: { max: 1, min: 0, idleTimeoutMillis: 1_000 } };
}

/** A T-SQL bracket-quoted identifier: [name], with ] doubled. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 128) throw new Error('an identifier must have 1 to 128 characters');
  return `[${name.replace(/]/g, ']]')}]`;
}
