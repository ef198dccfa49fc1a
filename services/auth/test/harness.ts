// Test harness for auth: the simulator over real HTTP, auth as real child processes with every line of their output
// captured, a dump of everything at rest, and a scanner for secrets in any of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createSecretBox, type SealedValue, type SecretBox } from '@playledger/common';
import type { Store } from '@playledger/store';
import { authKeys } from '../src/keys.ts';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const SIM_CLIENT = { id: 'playledger-sim-client', secret: 'playledger-sim-secret' };

/** Every line any process of a test file wrote, with where it came from. */
export class LogCapture {
  readonly lines: { source: string; line: string }[] = [];
  /** AUTH_TEST_LOG_FILE=<path> also appends every line there (to read what the processes said) */
  readonly #file = process.env.AUTH_TEST_LOG_FILE;
  add(source: string, chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push({ source, line });
      if (this.#file) appendFileSync(this.#file, `${source}: ${line}\n`);
    }
  }
  text(): string {
    return this.lines.map((l) => `${l.source}: ${l.line}`).join('\n');
  }
}

export interface AuthProcess {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

export function testKeys(): string {
  return `t1:${randomBytes(32).toString('base64')}`;
}

export function authEnv(o: { simUrl: string; databaseUrl: string; prefix: string; keys: string; secret: string }): Record<string, string> {
  return {
    LOG_LEVEL: 'debug',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: o.prefix,
    STORE_KIND: 'postgres',
    DATABASE_URL: o.databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    SPOTIFY_ACCOUNTS_URL: o.simUrl,
    SPOTIFY_API_URL: o.simUrl,
    SPOTIFY_CLIENT_ID: SIM_CLIENT.id,
    SPOTIFY_CLIENT_SECRET: SIM_CLIENT.secret,
    SPOTIFY_TIMEOUT_MS: '5000',
    AUTH_SERVICE_SECRET: o.secret,
    TOKEN_ENCRYPTION_KEYS: o.keys,
  };
}

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  // only what the test gives, plus PATH/HOME: nothing of the developer's environment leaks in
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Starts `node services/auth/src/main.ts`; resolves once it logs `ready` with its port. */
export function startAuth(env: Record<string, string | undefined>, logs: LogCapture, name = 'auth'): Promise<AuthProcess> {
  const child = spawn(process.execPath, [MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not log ready in time:\n${buffer.slice(-4000)}`)), 30_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      logs.add(`${name}:stderr`, chunk);
      buffer += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      logs.add(`${name}:stdout`, chunk);
      buffer += chunk;
      for (const line of chunk.split('\n')) {
        if (!line.includes('"msg":"ready"')) continue;
        const port = (JSON.parse(line) as { port: number }).port;
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${port}`,
          port,
          child,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before ready:\n${buffer.slice(-4000)}`));
    });
  });
}

/** Runs auth expecting it to stop at start-up; returns its exit code and output. */
export function runAuthExpectingExit(env: Record<string, string | undefined>, logs: LogCapture): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    logs.add('auth-config:stdout', c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    logs.add('auth-config:stderr', c);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    }),
  );
}

// ---- the simulator's control API ----

export async function control(simUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${simUrl}/control${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`sim control ${method} ${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

export async function tokenCalls(simUrl: string): Promise<number> {
  const calls = (await control(simUrl, 'GET', '/calls')) as { total: { token?: number } };
  return calls.total.token ?? 0;
}

// ---- a browser's login, hop by hop ----

/** A browser as far as logins need one: follows redirects and keeps each host's cookies. */
export class Browser {
  readonly #cookies = new Map<string, Map<string, string>>();
  /** authorization codes seen on the way (for the log scan) */
  readonly codes: string[] = [];

  /** The values of every cookie the browser holds now. */
  cookieValues(): string[] {
    return [...this.#cookies.values()].flatMap((jar) => [...jar.values()]);
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async get(url: string | URL): Promise<Response> {
    const target = new URL(url);
    const jar = this.#cookies.get(target.host) ?? new Map<string, string>();
    this.#cookies.set(target.host, jar);
    const code = target.searchParams.get('code');
    if (code) this.codes.push(code);
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(target, { redirect: 'manual', headers });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows every redirect from `url`; the last response and where it came from. */
  async follow(url: string | URL): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    for (let hop = 0; hop < 10; hop += 1) {
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      await response.body?.cancel();
      current = new URL(location, current);
    }
    throw new Error('more than 10 redirects');
  }
}

/** The whole login in a fresh browser: /login, the simulator's /authorize, back to /callback. */
export async function browserLogin(authUrl: string, browser = new Browser()): Promise<{ response: Response; url: URL; browser: Browser }> {
  return { ...(await browser.follow(`${authUrl}/login`)), browser };
}

export interface LoginHops {
  browser: Browser;
  authorizeUrl: URL;
  callbackUrl: URL;
}

/** GET /login and the simulator's /authorize without following the last redirect: the callback URL to visit. */
export async function loginUntilCallback(authUrl: string, browser = new Browser()): Promise<LoginHops> {
  const login = await browser.get(`${authUrl}/login`);
  if (login.status !== 302) throw new Error(`/login answered ${login.status}`);
  const authorizeUrl = new URL(login.headers.get('location') ?? '');
  const authorize = await browser.get(authorizeUrl);
  if (authorize.status !== 302) throw new Error(`/authorize answered ${authorize.status}: ${await authorize.text()}`);
  const callbackUrl = new URL(authorize.headers.get('location') ?? '');
  const code = callbackUrl.searchParams.get('code');
  if (code) browser.codes.push(code);
  return { browser, authorizeUrl, callbackUrl };
}

// ---- what is at rest ----

/** Every row of every table of the database, as JSON text. */
export async function dumpDatabase(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ schemaname: string; tablename: string }>(
      `SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: string[] = [];
    for (const t of tables.rows) {
      const rows = await client.query(`SELECT * FROM "${t.schemaname}"."${t.tablename}"`);
      out.push(`${t.schemaname}.${t.tablename}: ${JSON.stringify(rows.rows)}`);
    }
    if (tables.rows.length === 0) throw new Error('no tables to dump');
    return out.join('\n');
  } finally {
    await client.end();
  }
}

/** Every key under the prefix with its whole value, whatever its type. */
export async function dumpRedis(prefix: string, url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<{ keys: string[]; text: string }> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const out: string[] = [];
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      switch (type) {
        case 'string':
          value = await redis.get(key);
          break;
        case 'hash':
          value = await redis.hgetall(key);
          break;
        case 'list':
          value = await redis.lrange(key, 0, -1);
          break;
        case 'set':
          value = await redis.smembers(key);
          break;
        case 'zset':
          value = await redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES');
          break;
        case 'stream':
          value = await redis.xrange(key, '-', '+');
          break;
        default:
          value = `(${type})`;
      }
      out.push(`${key} ${type} ${JSON.stringify(value)}`);
    }
    return { keys, text: out.join('\n') };
  } finally {
    redis.disconnect();
  }
}

/** The forms a secret could be written in. */
export function secretForms(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  const forms = [secret, b.toString('hex'), b.toString('hex').toUpperCase(), encodeURIComponent(secret)];
  // base64 of the secret inside a longer value depends on its offset modulo 3: take, for each offset, the part of the
  // encoding that only the secret's bytes determine
  for (const shift of [0, 1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(shift), b]);
    for (const encoding of ['base64', 'base64url'] as const) {
      const enc = shifted.toString(encoding).replace(/=+$/, '');
      forms.push(enc.slice(shift === 0 ? 0 : 4, enc.length - 4));
    }
  }
  return forms.filter((f) => f.length >= 8);
}

/** Which secrets (by label) appear in the text, in any form. */
export function findSecrets(text: string, secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [label, secret] of secrets) {
    if (secret.length < 8) continue;
    if (secretForms(secret).some((form) => text.includes(form))) found.push(label);
  }
  return found;
}

export function boxFor(keys: string): SecretBox {
  return createSecretBox(keys);
}

/** The refresh and access tokens auth holds now (decrypted with the test's key ring), by label. */
export async function tokensHeldByAuth(store: Store, prefix: string, box: SecretBox, url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (const user of await store.listUsers()) {
      const credentials = await store.getCredentials(user.userId);
      if (credentials) out.set(`refresh token of ${user.userId}`, box.open(credentials.refreshToken, `refresh:${user.userId}`));
      const cached = await redis.get(authKeys(prefix).token(user.userId));
      if (cached) out.set(`access token of ${user.userId}`, box.open(JSON.parse(cached) as SealedValue, `access:${user.userId}`));
    }
  } finally {
    redis.disconnect();
  }
  return out;
}
