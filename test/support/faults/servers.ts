// Servers a fault test owns and may stop, kill or restart without disturbing any other test: a PostgreSQL cluster of
// its own (initdb in a temporary folder, its own port) and a redis-server of its own (AOF on, its own port).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort, sleep } from '../stack.ts';

const run = promisify(execFile);

/** The newest PostgreSQL binaries of the machine (Debian layout), or null when there are none. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

export function redisServerAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(path.join(dir, 'redis-server')));
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary as the postgres user when we are root (initdb and postgres refuse to run as root). */
async function asPostgres(binary: string, args: string[]): Promise<void> {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  await run(file, argv, { maxBuffer: 16 * 1024 * 1024 });
}

export interface OwnedPostgres {
  port: number;
  /** the URL of a database made for the test on this server */
  url: string;
  dir: string;
  running: boolean;
  /** pg_ctl stop -m fast: every connection is cut, new ones are refused */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stops the server and removes its folder */
  destroy(): Promise<void>;
}

export async function startOwnedPostgres(label: string): Promise<OwnedPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const dir = await mkdtemp(path.join(os.tmpdir(), `pl-fault-pg-${label}-`));
  if (isRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`;
  const pgCtl = path.join(bin, 'pg_ctl');
  const state = { running: false };
  const start = async () => {
    await asPostgres(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
    state.running = true;
  };
  const stop = async () => {
    await asPostgres(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    state.running = false;
  };
  await start();
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE playledger');
  } finally {
    await admin.end();
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/playledger`,
    dir,
    get running() {
      return state.running;
    },
    stop,
    start,
    async destroy() {
      if (state.running) await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnedRedis {
  port: number;
  url: string;
  dir: string;
  /** SIGTERM (Redis writes its AOF and exits), then the same server started again on the same port and folder */
  restart(downMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnedRedis(label: string): Promise<OwnedRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `pl-fault-redis-${label}-`));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--dir', dir,
    '--daemonize', 'no',
    '--maxmemory-policy', 'noeviction',
  ]; // prettier-ignore
  let child: ChildProcess | undefined;
  const launch = async () => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    await waitForRedis(url, c);
  };
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    port,
    url,
    dir,
    async restart(downMs = 1_000) {
      await halt();
      await sleep(downMs);
      await launch();
    },
    async destroy() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForRedis(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      // loading the AOF answers LOADING to commands; wait until it serves
      if ((await r.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      r.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on ${url} did not come up`);
    await sleep(100);
  }
}
