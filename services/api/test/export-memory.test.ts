// An export streams in constant memory: 100,000 plays read slowly and 10,000 plays, each from a fresh api
// process, raise its resident memory by only a few megabytes over its value before the export.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, type ServiceProcess } from '../../../test/support/processes.ts';
import { TEST_REDIS_URL } from '../../../test/support/redis.ts';
import { API_NODE_OPTIONS } from '../src/lib/runtime.ts';
import { seedPlays, seedUser, startHarness, type Harness } from './harness.ts';

/**
 * The allowed rise of RSS during an export. Measured with the deployed heap settings: about 10 MB for 10,000
 * plays and about the same for 100,000 (a 53 MB body), so the rise does not grow with the export's size.
 */
const MAX_RISE_MB = 16;

let h: Harness;
beforeAll(async () => {
  h = await startHarness('exportmem');
  await seedUser(h.store, 'big');
  await seedUser(h.store, 'mid');
  await seedUser(h.store, 'warm');
  await seedPlays(h.store, 'big', 100_000, new Date('2026-06-01T00:00:00Z'), 5_000);
  await seedPlays(h.store, 'mid', 10_000, new Date('2026-06-01T00:00:00Z'), 5_000);
  await seedPlays(h.store, 'warm', 3_000, new Date('2026-06-01T00:00:00Z'));
}, 600_000);
afterAll(async () => {
  await h?.close();
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GETs the export and reads it, pausing `pauseMs` after every `pauseEveryBytes`; counts lines and bytes. */
function readExport(
  port: number,
  path: string,
  token: string,
  pauseEveryBytes: number,
  pauseMs: number,
): Promise<{ status: number; lines: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      let sincePause = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        sincePause += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        if (sincePause >= pauseEveryBytes && pauseMs > 0) {
          sincePause = 0;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function measure(user: string, expectedLines: number, slow: boolean) {
  const api: ServiceProcess = await spawnService({
    name: `api-export-${user}`,
    script: 'services/api/src/main.ts',
    env: {
      LOG_LEVEL: 'info',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      STORE_KIND: 'postgres',
      DATABASE_URL: h.db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      API_TOKEN: h.token,
      // the heap settings the api is deployed with (see src/lib/runtime.ts)
      NODE_OPTIONS: API_NODE_OPTIONS,
    },
  });
  try {
    const pid = api.child.pid as number;
    // one small export first (3,000 plays), so that the code of an export is compiled before the baseline is taken
    const warm = await readExport(api.port, '/users/warm/plays/export?format=ndjson', h.token, Infinity, 0);
    expect(warm.lines).toBe(3_000);
    await sleep(500);
    const before = rssMb(pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 50);
    try {
      const result = await readExport(api.port, `/users/${user}/plays/export?format=ndjson`, h.token, slow ? 256 * 1024 : Infinity, slow ? 40 : 0);
      expect(result.status).toBe(200);
      expect(result.lines).toBe(expectedLines);
      peak = Math.max(peak, rssMb(pid));
      console.log(
        `export of ${expectedLines} plays (${(result.bytes / 1048576).toFixed(1)} MB, ${slow ? 'read slowly' : 'read at full speed'}): ` +
          `RSS before ${before.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, rise ${(peak - before).toFixed(1)} MB`,
      );
      return { before, peak, bytes: result.bytes };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await api.stop(10_000);
  }
}

describe('export memory, each in a fresh api process', () => {
  it('100,000 plays read slowly: RSS rises by a few MB at most', async () => {
    const { before, peak, bytes } = await measure('big', 100_000, true);
    expect(bytes).toBeGreaterThan(50 * 1048576); // far more than the allowed rise: nothing is held whole
    expect(peak - before).toBeLessThan(MAX_RISE_MB);
  }, 600_000);

  it('10,000 plays: RSS rises by a few MB at most', async () => {
    const { before, peak } = await measure('mid', 10_000, false);
    expect(peak - before).toBeLessThan(MAX_RISE_MB);
  }, 300_000);
});
