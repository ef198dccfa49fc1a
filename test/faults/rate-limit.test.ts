// A 429 storm, then QUOTA_EXCEEDED: the simulator answers 429 to every caller for a while. The extractors pause the
// whole extractions queue (every replica) for Retry-After (or SPOTIFY_QUOTA_PAUSE_MS when there is none): the
// simulator receives no recently-played call during the pause, no delayed job is charged an attempt (attemptsMade 0
// while it waits; 1 once completed, as BullMQ 6 counts the successful attempt), and afterwards
// every user is caught up, with no failed job, play by play against the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWallTime, startFaultStack } from '../support/faults/fault-stack.ts';
import type { Fault } from '../support/sim-control.ts';
import { type Stack, sleep } from '../support/stack.ts';

const USERS = ['storm-1', 'storm-2', 'storm-3', 'storm-4'];
const QUOTA_PAUSE_MS = 5_000;

describe('429 storm and QUOTA_EXCEEDED', () => {
  let stack: Stack;
  const suiteStarted = Date.now();

  beforeAll(async () => {
    stack = await startFaultStack({ label: 'storm', quotaPauseMs: QUOTA_PAUSE_MS });
    await stack.addUsers(USERS, 30);
    const first = await stack.extract(USERS);
    expect(first.map((e) => e.state)).toEqual(USERS.map(() => 'done'));
  });
  afterAll(async () => {
    await stack?.stop();
    reportWallTime('429 storm and QUOTA_EXCEEDED (both)', suiteStarted);
  });

  /**
   * Adds the fault, requests one extraction per user, and samples the simulator's recently-played counter until every
   * extraction is final. Returns the samples and the extractions.
   */
  async function storm(fault: Fault, pauseMs: number) {
    await stack.control.advance(30 * 60_000);
    const base = (await stack.control.calls()).total['recently-played'];
    await stack.control.addFault(fault);
    const ids = await stack.requestAll(USERS);
    const samples: { at: number; count: number }[] = [];
    // jobs seen waiting again after they had started (the 429 sent them back), with their attempts at that moment
    const delayed = new Map<string, { attemptsMade: number; attemptsStarted: number }>();
    const final = stack.waitForFinal(ids, 120_000);
    let settled = false;
    final.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      samples.push({ at: Date.now(), count: (await stack.control.calls()).total['recently-played'] - base });
      for (const job of await stack.queues.extractions.getJobs(['wait', 'delayed', 'prioritized'])) {
        if (job?.id && ids.includes(job.id) && job.attemptsStarted > 0) {
          delayed.set(job.id, { attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted });
        }
      }
      await sleep(100);
    }
    const extractions = await final;
    await stack.control.clearFaults();

    // the first answered call is the first 429; calls already on their way then may still land (the burst: one per
    // job that was active at that moment, within a second); after that nothing until the pause ends
    const first = samples.find((s) => s.count > 0);
    expect(first, 'the simulator saw a call').toBeDefined();
    const burstEnd = (first?.at ?? 0) + 1_000;
    const pauseEnd = (first?.at ?? 0) + pauseMs - 500;
    const during = samples.filter((s) => s.at >= burstEnd && s.at <= pauseEnd);
    expect(during.length, 'samples taken during the pause').toBeGreaterThan(5);
    const atBurstEnd = during[0]?.count ?? -1;
    expect(
      during.filter((s) => s.count !== atBurstEnd),
      `no recently-played call during the pause (calls ${JSON.stringify(during.map((s) => s.count))})`,
    ).toEqual([]);
    // the storm really hit: more calls than users (each 429 is answered and the job runs again)
    expect(samples.at(-1)?.count ?? 0).toBeGreaterThan(USERS.length);

    expect(extractions.map((e) => e.state)).toEqual(USERS.map(() => 'done'));
    // While they waited out the pause, the delayed jobs had not been charged an attempt.
    expect(delayed.size, 'jobs seen waiting out the pause').toBeGreaterThan(0);
    expect([...delayed].filter(([, v]) => v.attemptsMade !== 0)).toEqual([]);
    // Once done, each job counts exactly one attempt: BullMQ 6 counts the successful one in attemptsMade (its
    // moveToFinished increments it on completion too), so 1 means no failed attempt was ever charged.
    for (const id of ids) {
      const job = await stack.queues.extractions.getJob(id);
      const logs = stack
        .logLines((l) => l.text.includes(id) && (l.json?.level as number) >= 40)
        .map((l) => `${l.process}: ${l.line.text}`);
      expect(
        { id, state: await job?.getState(), attemptsMade: job?.attemptsMade },
        `${job?.failedReason ?? ''} ${JSON.stringify(job?.stacktrace)}\n${logs.join('\n')}`,
      ).toEqual({ id, state: 'completed', attemptsMade: 1 });
    }
    const { failedJobs, deadLetterJobs } = await stack.failuresAndDeadLetters();
    expect(failedJobs).toEqual({ extractions: 0, validation: 0, load: 0, 'dead-letters': 0 });
    expect(deadLetterJobs).toBe(0);
    const total = await stack.expectExact(USERS);
    console.log(
      `${fault.kind}: ${samples.at(-1)?.count} recently-played calls for ${USERS.length} extractions, ` +
        `flat at ${atBurstEnd} during the pause; ${delayed.size} jobs waited it out uncharged; ${total} plays equal the ledger`,
    );
  }

  it('a 429 with Retry-After pauses every extraction, charges no attempt, and everyone is caught up', async () => {
    const started = Date.now();
    // everyone is answered 429 for 3 s; Retry-After says 6 s
    await storm({ kind: 'rate-limit', endpoint: 'recently-played', durationMs: 3_000, retryAfterSec: 6 }, 6_000);
    reportWallTime('429 storm', started);
  });

  it('QUOTA_EXCEEDED without Retry-After pauses for SPOTIFY_QUOTA_PAUSE_MS, charges no attempt', async () => {
    const started = Date.now();
    await storm({ kind: 'quota-exceeded', endpoint: 'recently-played', durationMs: 2_000 }, QUOTA_PAUSE_MS);
    reportWallTime('QUOTA_EXCEEDED', started);
  });
});
