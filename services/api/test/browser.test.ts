// A person in headless Chromium: signs in on the login page, sees Bull Board list every queue of the pipeline
// (with completed jobs), and sees /docs render the API. Screenshots go to artifacts/ (gitignored).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_QUEUES, createRedis } from '@playledger/common';
import { REPO_ROOT } from '../../../test/support/processes.ts';
import { TEST_REDIS_URL } from '../../../test/support/redis.ts';
import { startHarness, type Harness } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing) console.warn(`browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const ARTIFACTS = path.join(REPO_ROOT, 'artifacts');

let h: Harness;
let base = '';

beforeAll(async () => {
  if (missing) return;
  h = await startHarness('browser');
  // one completed job on every queue, so Bull Board has something to show
  for (const name of ALL_QUEUES) await h.queues[name].add('browser-test', { n: 1 }, { jobId: `browser-${name}` });
  const connection = createRedis(TEST_REDIS_URL, 'worker', 'api-browser-test');
  const workers = ALL_QUEUES.map((name) => new Worker(name, () => Promise.resolve({ ok: true }), { connection, prefix: h.prefix }));
  for (const name of ALL_QUEUES) {
    while ((await h.queues[name].getJobCountByTypes('completed')) === 0) await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(workers.map((w) => w.close()));
  connection.disconnect();
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await h?.close();
});

describe('in a browser', () => {
  it.skipIf(missing)('signs in, sees every queue in Bull Board and the API in /docs', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      // not signed in: sent to the login page
      await page.goto(`${base}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-login.png') });

      await page.fill('#token', 'a-wrong-token-of-sufficient-length');
      await page.click('button[type=submit]');
      await page.getByRole('alert').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-login-wrong-token.png') });

      await page.fill('#token', h.token);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/admin/queues`);
      for (const name of ALL_QUEUES) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
      await page.getByText('Loading...').waitFor({ state: 'hidden', timeout: 15_000 });
      await page.waitForLoadState('networkidle');
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'pl_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-bull-board.png'), fullPage: true });

      await page.goto(`${base}/admin/queues/queue/${encodeURIComponent('extractions')}?status=completed`);
      await page.getByText('browser-test').first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-bull-board-completed.png'), fullPage: true });

      await page.goto(`${base}/docs`);
      await page.locator('.swagger-ui .info .title').getByText('playledger api').waitFor({ timeout: 15_000 });
      await page.getByText('/dead-letters/{id}/replay').first().waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
