// The demo as a newcomer runs it: a fresh clone of what is committed, the README's set-up (`npm ci`), then
// `npm run demo`. Within a minute the API reports plays for every demo user, Bull Board shows completed jobs in a
// real browser, and Ctrl-C leaves no process behind.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ARTIFACTS, browserUnavailable, launchBrowser } from '../support/browser.ts';
import { PG_ADMIN_URL } from '../support/postgres.ts';
import { dropPrefix } from '../support/redis.ts';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const noBrowser = browserUnavailable();
if (noBrowser) console.warn(`demo test: the Bull Board check is skipped: ${noBrowser}`);

/** Processes whose command line or working directory lies in `dir`. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = readFileSync(`/proc/${pid}/cwd`, 'utf8');
      } catch {
        cwd = spawnSync('readlink', [`/proc/${pid}/cwd`], { encoding: 'utf8' }).stdout.trim();
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

describe('npm run demo, from a fresh clone', () => {
  const clone = mkdtempSync(path.join(tmpdir(), 'playledger-demo-'));
  const suffix = randomBytes(3).toString('hex');
  const database = `pl_demo_${suffix}`;
  const prefix = `pltest-demo-${suffix}`;
  const ports = { API_PORT: '18180', AUTH_PORT: '18181', SIM_PORT: '18190' };
  const api = `http://127.0.0.1:${ports.API_PORT}`;
  let output = '';
  let demo: ReturnType<typeof spawn> | undefined;

  beforeAll(() => {
    const cloned = spawnSync('git', ['clone', '--quiet', root, clone], { encoding: 'utf8' });
    expect(cloned.status, cloned.stderr).toBe(0);
    // the README's set-up, exactly as written there
    const setup = /<!-- setup -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim();
    expect(setup, 'the README shows its set-up commands').toBeTruthy();
    const installed = spawnSync('sh', ['-c', setup ?? 'false'], { cwd: clone, encoding: 'utf8', timeout: 600_000 });
    expect(installed.status, installed.stderr).toBe(0);
  }, 700_000);

  afterAll(async () => {
    if (demo?.pid && demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid, 'SIGKILL');
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    await dropPrefix(prefix);
    rmSync(clone, { recursive: true, force: true });
  });

  it('shows plays for every user within a minute, Bull Board with completed jobs, and Ctrl-C stops everything', async () => {
    const command = /<!-- demo -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim();
    expect(command, 'the README shows the demo command').toBe('npm run demo');
    const startedAt = Date.now();
    demo = spawn('sh', ['-c', `exec ${command}`], {
      cwd: clone,
      detached: true, // its own process group, so that a Ctrl-C reaches it as in a terminal
      env: { ...process.env, ...ports, DEMO_DATABASE: database, DEMO_QUEUE_PREFIX: prefix, DEMO_USERS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => demo?.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo was not ready within 90 s:\n${output.slice(-3000)}`)), 90_000);
      for (const stream of [demo?.stdout, demo?.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on('line', (line) => {
          output += `${line}\n`;
          if (line.includes('Ctrl-C stops everything.') && output.includes('playledger demo is running')) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
      void exited.then((code) => reject(new Error(`the demo exited with ${code}:\n${output.slice(-3000)}`)));
    });
    const token = /Bearer ([0-9a-f]{32,})/.exec(output)?.[1] ?? '';
    expect(token).not.toBe('');

    const headers = { authorization: `Bearer ${token}` };
    const { items: users } = (await (await fetch(`${api}/users`, { headers })).json()) as { items: { userId: string }[] };
    expect(users).toHaveLength(3);
    for (const user of users) {
      const status = (await (await fetch(`${api}/users/${user.userId}`, { headers })).json()) as { playCount: number };
      expect(status.playCount, `${user.userId} has plays`).toBeGreaterThan(0);
    }
    const tookMs = Date.now() - startedAt;
    console.log(`demo: plays for every user ${Math.round(tookMs / 1000)} s after \`npm run demo\` started`);
    expect(tookMs).toBeLessThan(120_000); // "within a minute" once running; the start-up itself is included here

    if (!noBrowser) {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(`${api}/admin/queues`);
        await page.locator('input[type="password"], input[name="token"]').first().fill(token);
        await page.locator('button[type="submit"], input[type="submit"]').first().click();
        await page.waitForURL(/\/admin\/queues/);
        for (const queue of ['extractions', 'validation', 'load', 'dead-letters']) {
          await page.getByText(queue, { exact: true }).first().waitFor({ timeout: 15_000 });
        }
        await page.goto(`${api}/admin/queues/queue/load?status=completed`);
        await page.getByText(/load-/).first().waitFor({ timeout: 15_000 });
        await page.screenshot({ path: path.join(ARTIFACTS, 'demo-bull-board.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }

    process.kill(-(demo.pid ?? 0), 'SIGINT');
    await exited;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(processesIn(clone)).toEqual([]);
  });
});
