// `npm run demo`: playledger without a Spotify account. Starts the Spotify simulator with a few listening users and
// the whole stack against the machine's Redis and PostgreSQL (a database and queue prefix of its own, fresh each
// run), logs every user in through the real login flow, asks for an extraction, and prints where to look.
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { followLogin } from './lib/follow-login.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const USERS = Number(process.env.DEMO_USERS ?? 3);
const ports = {
  api: process.env.API_PORT ?? '8080',
  auth: process.env.AUTH_PORT ?? '8081',
  sim: process.env.SIM_PORT ?? '8090',
};
const database = process.env.DEMO_DATABASE ?? 'playledger_demo';
const adminUrl = process.env.DEMO_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.DEMO_QUEUE_PREFIX ?? 'playledger-demo';
const apiToken = randomBytes(24).toString('hex');
const api = `http://127.0.0.1:${ports.api}`;
const auth = `http://127.0.0.1:${ports.auth}`;

/** A demo starts from nothing: its own database and queue prefix, emptied. */
async function resetState(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function apiCall<T>(method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${api}${route}`, {
    method,
    headers: { authorization: `Bearer ${apiToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface UserStatus {
  user: { userId: string; displayName: string | null };
  playCount: number;
}

async function main(): Promise<void> {
  const databaseUrl = await resetState();
  const stack = spawn(process.execPath, [path.join(ROOT, 'scripts/start-stack.ts'), '--simulator'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      STORE_KIND: 'postgres',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      API_TOKEN: apiToken,
      AUTH_SERVICE_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `demo:${randomBytes(32).toString('base64')}`,
      API_PORT: ports.api,
      AUTH_PORT: ports.auth,
      SIM_PORT: ports.sim,
      SIM_USERS: String(USERS),
      SIM_START_DAYS_AGO: '1',
      EXTRACTION_INTERVAL_MS: process.env.EXTRACTION_INTERVAL_MS ?? '60000',
      AUTH_PUBLIC_URL: auth,
      // services announce `ready` at info level, which the stack runner waits for
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    },
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ndemo: stopping everything (${signal})`);
    stack.kill('SIGTERM');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  stack.once('exit', (code) => process.exit(stopping ? 0 : (code ?? 1)));

  await new Promise<void>((resolve) => {
    createInterface({ input: stack.stdout }).on('line', (line) => {
      if (process.env.DEMO_VERBOSE === '1' || /"level":(50|60)/.test(line) || line.startsWith('start-stack:')) console.log(line);
      if (line.includes('every service is ready')) resolve();
    });
  });

  for (let i = 0; i < USERS; i += 1) {
    const page = await followLogin(auth);
    if (page.status !== 200) throw new Error(`login ${i + 1} failed (${page.status})`);
  }
  const { items: users } = await apiCall<{ items: { userId: string }[] }>('GET', '/users');
  await apiCall('POST', '/extractions', {});

  const deadline = Date.now() + 60_000;
  let statuses: UserStatus[] = [];
  while (Date.now() < deadline) {
    statuses = await Promise.all(users.map((u) => apiCall<UserStatus>('GET', `/users/${encodeURIComponent(u.userId)}`)));
    if (statuses.every((s) => s.playCount > 0)) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  console.log(`
playledger demo is running (Spotify simulated; ${USERS} listening users, extracted every minute).

  users and their plays:
${statuses.map((s) => `    ${(s.user.displayName ?? s.user.userId).padEnd(20)} ${String(s.playCount).padStart(4)} plays`).join('\n')}

  API          ${api}            (Authorization: Bearer ${apiToken})
  Bull Board   ${api}/admin/queues
  API docs     ${api}/docs
  sign in      ${api}/login       with the token above
  log in more  ${auth}/login

  try: curl -H 'Authorization: Bearer ${apiToken}' ${api}/users

Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
});
