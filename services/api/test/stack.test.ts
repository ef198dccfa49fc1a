// The api as a process in front of the real pipeline (simulator, auth, extractor, validator, loader): a manual
// extraction over HTTP lands with counts that match the database, a second request while the first is pending
// starts no second run (the simulator's call count shows it), and deleting the user removes the credentials, the
// token auth cached in Redis and the schedule.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_QUEUES, scheduledUsers, scheduleUser } from '@playledger/common';
import { Redis } from 'ioredis';
import { REPO_ROOT, spawnService, type ServiceProcess } from '../../../test/support/processes.ts';
import { TEST_REDIS_URL } from '../../../test/support/redis.ts';
import { Stack } from '../../../test/support/stack.ts';
import { authKeys } from '../../auth/src/keys.ts';
import { API_NODE_OPTIONS } from '../src/lib/runtime.ts';

interface ExtractionBody {
  id: string;
  state: string;
  counts: { fetched: number | null; new: number | null; known: number | null; deadLettered: number | null };
}

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'artifacts');
if (!existsSync(CHROMIUM)) console.warn(`browser part skipped: ${CHROMIUM} is missing`);

let stack: Stack;
let api: ServiceProcess;
let redis: Redis;
let storedPlays = 0;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL(path, api.url), {
    method,
    headers: { authorization: `Bearer ${stack.env.API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  stack = await Stack.start({ label: 'api', replicas: 1, simEnv: { SIM_START_DAYS_AGO: '2' } });
  api = await spawnService({
    name: 'api',
    script: 'services/api/src/main.ts',
    env: { ...stack.env, PORT: '0', AUTH_PUBLIC_URL: stack.auth.url, NODE_OPTIONS: API_NODE_OPTIONS },
  });
  redis = new Redis(TEST_REDIS_URL);
}, 300_000);
afterAll(async () => {
  redis?.disconnect();
  await api?.stop(10_000);
  await stack?.stop();
});

async function waitFinal(id: string): Promise<ExtractionBody> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { json } = await call('GET', `/extractions/${id}`);
    const e = json as ExtractionBody;
    if (['done', 'no_new_plays', 'failed'].includes(e.state)) return e;
    if (Date.now() > deadline) throw new Error(`extraction ${id} not final: ${JSON.stringify(e)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the api in front of the running pipeline', () => {
  it('a manual extraction lands with matching counts; asking again while pending starts no second run', async () => {
    await stack.control.addUser({ id: 'api-1', playsPerHour: 10 });
    const userId = await stack.login('api-1');
    await stack.control.listen('api-1', 12);
    // Spotify answers slowly once, so the extraction is surely pending when it is asked for again
    await stack.control.addFault({ kind: 'slow', endpoint: 'recently-played', delayMs: 2_000, count: 1 });
    const callsBefore = (await stack.control.calls()).total['recently-played'];

    const first = await call('POST', '/extractions', { userId });
    expect(first.status).toBe(202);
    const [started] = (first.json as { extractions: { extractionId: string; created: boolean }[] }).extractions;
    expect(started?.created).toBe(true);
    const second = await call('POST', '/extractions', { userId });
    const [again] = (second.json as { extractions: { extractionId: string; created: boolean }[] }).extractions;
    expect(again).toMatchObject({ extractionId: started?.extractionId, created: false });

    const done = await waitFinal(started!.extractionId);
    expect(done.state).toBe('done');
    expect((await stack.control.calls()).total['recently-played'] - callsBefore).toBe(1);
    // the user's first extraction: everything on the page is new, and is what the database holds
    storedPlays = await stack.store.countPlays(userId);
    expect(storedPlays).toBeGreaterThanOrEqual(12);
    expect(done.counts).toEqual({ fetched: storedPlays, new: storedPlays, known: 0, deadLettered: 0 });
    const status = await call('GET', `/users/${encodeURIComponent(userId)}`);
    expect(status.json).toMatchObject({ playCount: storedPlays, lastExtraction: { id: started?.extractionId, state: 'done' } });
    const c = await stack.compare('api-1');
    expect(c.missing.length + c.extra.length + c.doubled.length).toBe(0);
  });

  it.skipIf(!existsSync(CHROMIUM))('Bull Board shows the completed jobs of that extraction in a browser', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(new URL('/login?next=%2Fadmin%2Fqueues', api.url).toString());
      await page.fill('#token', stack.env.API_TOKEN!);
      await page.click('button[type=submit]');
      await page.waitForURL(new URL('/admin/queues', api.url).toString());
      for (const name of ALL_QUEUES) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
      await page.getByText('Loading...').waitFor({ state: 'hidden', timeout: 15_000 });
      await page.waitForLoadState('networkidle');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'api-stack-bull-board.png'), fullPage: true });
      for (const queue of ['extractions', 'validation', 'load']) {
        await page.goto(new URL(`/admin/queues/queue/${queue}?status=completed`, api.url).toString());
        await page.getByText('Finished at').first().waitFor({ timeout: 15_000 });
        await page.screenshot({ path: path.join(ARTIFACTS, `api-stack-${queue}-completed.png`), fullPage: true });
      }
    } finally {
      await browser.close();
    }
  });

  it('deleting the user removes the credentials, the token auth cached in Redis and the schedule', async () => {
    const userId = stack.userId('api-1');
    const tokenKey = authKeys(stack.prefix).token(userId);
    expect(await redis.exists(tokenKey)).toBe(1); // auth cached the access token during the extraction
    await scheduleUser(stack.queues.extractions, userId, 24 * 3600_000);
    expect(await stack.store.getCredentials(userId)).not.toBeNull();

    const res = await call('DELETE', `/users/${encodeURIComponent(userId)}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ deleted: true, purged: false, scheduleRemoved: true, cachedTokenRemoved: true });
    expect(await stack.store.getCredentials(userId)).toBeNull();
    expect(await redis.exists(tokenKey)).toBe(0);
    const keys = await redis.keys(`${stack.prefix}:auth:token:*`);
    expect(keys).toEqual([]);
    expect(await scheduledUsers(stack.queues.extractions)).not.toContain(userId);
    expect(await stack.store.countPlays(userId)).toBe(storedPlays);
  });

  it('logs no errors', () => {
    expect(api.find((l) => typeof l.json?.level === 'number' && l.json.level >= 50)).toEqual([]);
  });
});
