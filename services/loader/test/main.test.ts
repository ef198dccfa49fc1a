// The validator and loader run as processes, as a container runs them: they become ready, answer the ops routes,
// and stop cleanly on SIGTERM. A bad configuration stops start-up with a message naming the variable.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  port: number;
  lines: string[];
}

async function start(script: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const ready = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const parsed = JSON.parse(line) as { msg?: string; port?: number };
        if (parsed.msg === 'ready' && typeof parsed.port === 'number') resolve(parsed.port);
      } catch {
        // not JSON: kept in lines for the failure message
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${lines.join('\n')}`)));
  });
  return { child, port: await ready, lines };
}

async function stop({ child }: Running): Promise<number | null> {
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}

let db: TestDatabase;
const prefix = uniquePrefix('main');

beforeAll(async () => {
  db = await createTestDatabase('loader_main');
});
afterAll(async () => {
  await db?.drop();
  await dropPrefix(prefix);
});

describe('the processes', () => {
  for (const [service, script, extra] of [
    ['validator', 'services/validator/src/main.ts', {}],
    ['loader', 'services/loader/src/main.ts', { STORE_KIND: 'postgres' }],
  ] as const) {
    it(`${service}: becomes ready, serves /healthz /readyz /metrics, stops on SIGTERM`, async () => {
      const env = {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        ...extra,
      };
      const running = await start(script, env);
      const base = `http://127.0.0.1:${running.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(ready.status, JSON.stringify(body)).toBe(200);
      expect(Object.keys(body.checks).sort()).toEqual(service === 'loader' ? ['redis', 'store'] : ['redis']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`service="${service}"`);
      expect(metrics).toContain('playledger_queue_jobs');
      expect(await stop(running)).toBe(0);
      const errors = running.lines.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 50);
      expect(errors).toEqual([]);
      expect(running.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    });
  }

  it('loader: a bad configuration names every bad variable and exits 78 (EX_CONFIG)', async () => {
    const child = spawn(process.execPath, ['services/loader/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, STORE_KIND: 'oracle', DATABASE_URL: '', PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    for (const name of ['DATABASE_URL', 'PORT', 'STORE_KIND']) expect(stderr).toContain(name);
  });
});
