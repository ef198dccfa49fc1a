// Redis restarted in the middle of a run: the test's own redis-server (its own port and folder, AOF on with
// appendfsync everysec) is stopped with SIGTERM while extractions are under way and started again on the same port
// and AOF. The services reconnect by themselves (none restarted, none crashed), every extraction ends done, a round
// after the restart works, and the database equals the ledger, play by play.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWallTime, startFaultStack } from '../support/faults/fault-stack.ts';
import { redisServerAvailable, startOwnedRedis, type OwnedRedis } from '../support/faults/servers.ts';
import { type Stack, waitUntil } from '../support/stack.ts';

const USERS = ['redis-1', 'redis-2', 'redis-3', 'redis-4'];

const noRedis = !redisServerAvailable();
if (noRedis) console.warn('Redis restart test skipped: no redis-server on the PATH');

describe.skipIf(noRedis)('Redis restarted during a run', () => {
  let redis: OwnedRedis;
  let stack: Stack;
  const started = Date.now();

  beforeAll(async () => {
    redis = await startOwnedRedis('restart');
    stack = await startFaultStack({ label: 'redis', redisUrl: redis.url });
    await stack.addUsers(USERS, 24);
    const first = await stack.extract(USERS);
    expect(first.map((e) => e.state)).toEqual(USERS.map(() => 'done'));
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.destroy();
    reportWallTime('Redis restart', started);
  });

  it('the services reconnect by themselves and the database is exact', async () => {
    await stack.control.advance(30 * 60_000);
    // the extractions are slowed at Spotify so that the restart meets them in flight
    for (const u of USERS) {
      await stack.control.addFault({ kind: 'slow', endpoint: 'recently-played', userId: u, delayMs: 2_000, count: 1 });
    }
    const before = (await stack.control.calls()).total['recently-played'];
    const ids = await stack.requestAll(USERS);
    await waitUntil(
      async () => ((await stack.control.calls()).total['recently-played'] > before ? true : null),
      30_000,
      'the first extraction under way',
    );
    const restartAt = Date.now();
    await redis.restart(2_000);
    console.log(`Redis down and up again in ${((Date.now() - restartAt) / 1000).toFixed(1)} s`);

    const final = await stack.waitForFinal(ids, 180_000);
    console.log(`all extractions final ${((Date.now() - restartAt) / 1000).toFixed(1)} s after the restart began`);
    expect(final.map((e) => `${e.state} ${e.reason ?? ''}`.trim())).toEqual(ids.map(() => 'done'));

    // a round after the restart, on the same processes
    await stack.control.advance(30 * 60_000);
    expect((await stack.extract(USERS, 120_000)).map((e) => e.state)).toEqual(USERS.map(() => 'done'));

    const { failedJobs, deadLetterJobs, deadLetterRows } = await stack.failuresAndDeadLetters();
    expect(failedJobs).toEqual({ extractions: 0, validation: 0, load: 0, 'dead-letters': 0 });
    expect({ deadLetterJobs, deadLetterRows }).toEqual({ deadLetterJobs: 0, deadLetterRows: 0 });
    const total = await stack.expectExact(USERS);
    console.log(`Redis restart: ${total} plays equal the ledger`);
    expect(stack.deadProcesses()).toEqual([]);
  });
});
