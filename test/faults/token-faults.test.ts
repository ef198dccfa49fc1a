// Token faults in the middle of a run: one user's access token expires early (Spotify answers 401), one user's
// refresh token is rotated at every refresh (the old one is revoked), one user's grant is gone (invalid_grant).
// The others are unaffected, that user is needs_reauth, nothing is retried in a loop (the simulator's token-call
// counts stay small and stop growing), and every user's plays equal the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWallTime, startFaultStack } from '../support/faults/fault-stack.ts';
import type { CallCounts, Ledger } from '../support/sim-control.ts';
import { type Stack, sleep } from '../support/stack.ts';

const EXPIRED = 'tok-expired';
const ROTATED = 'tok-rotated';
const REVOKED = 'tok-revoked';
const PLAIN = 'tok-plain';
const USERS = [EXPIRED, ROTATED, REVOKED, PLAIN];
const HEALTHY = [EXPIRED, ROTATED, PLAIN];

describe('token faults mid-run', () => {
  let stack: Stack;
  const started = Date.now();

  beforeAll(async () => {
    stack = await startFaultStack({ label: 'tokens' });
    await stack.addUsers(USERS, 24);
    const first = await stack.extract(USERS);
    expect(first.map((e) => e.state)).toEqual(USERS.map(() => 'done'));
  });
  afterAll(async () => {
    await stack?.stop();
    reportWallTime('token faults mid-run', started);
  });

  async function calls(): Promise<Record<string, CallCounts>> {
    return (await stack.control.calls()).byUser;
  }
  function delta(after: Record<string, CallCounts>, before: Record<string, CallCounts>, user: string) {
    return {
      token: (after[user]?.token ?? 0) - (before[user]?.token ?? 0),
      recentlyPlayed: (after[user]?.['recently-played'] ?? 0) - (before[user]?.['recently-played'] ?? 0),
    };
  }

  it('an expired access token, a rotated refresh token and one invalid_grant: only that user stops', async () => {
    // what the revoked user's history holds once its grant is gone: the ledger as of now
    const revokedLedger: Ledger = await stack.control.ledger(REVOKED);

    // round 1: the faults arrive between two extractions
    await stack.control.advance(30 * 60_000);
    await stack.control.request('POST', `/control/users/${EXPIRED}/expire-access-tokens`);
    await stack.control.patchUser(ROTATED, { rotateRefreshTokens: 'revoke-old' });
    await stack.control.request('POST', `/control/users/${ROTATED}/expire-access-tokens`);
    await stack.control.request('POST', `/control/users/${REVOKED}/revoke`);
    await stack.control.request('POST', `/control/users/${REVOKED}/expire-access-tokens`);
    const before1 = await calls();
    const round1 = await stack.extract(USERS);
    const after1 = await calls();
    const byUser1 = Object.fromEntries(USERS.map((u, i) => [u, round1[i]]));
    expect(byUser1[REVOKED]).toMatchObject({ state: 'failed', reason: 'user must log in again' });
    for (const u of HEALTHY) expect(byUser1[u]?.state, u).toBe('done');
    expect((await stack.store.getUser(stack.userId(REVOKED)))?.status).toBe('needs_reauth');
    for (const u of HEALTHY) expect((await stack.store.getUser(stack.userId(u)))?.status, u).toBe('active');
    // the rejected token costs one forced refresh and one more call; the untouched user needs no refresh at all
    expect(delta(after1, before1, EXPIRED)).toEqual({ token: 1, recentlyPlayed: 2 });
    expect(delta(after1, before1, ROTATED)).toEqual({ token: 1, recentlyPlayed: 2 });
    expect(delta(after1, before1, PLAIN)).toEqual({ token: 0, recentlyPlayed: 1 });
    // the revoked user: one refresh met invalid_grant, and that was the end of it
    expect(delta(after1, before1, REVOKED).token).toBeLessThanOrEqual(1);
    expect(delta(after1, before1, REVOKED).recentlyPlayed).toBeLessThanOrEqual(1);

    // round 2: the rotated user refreshes again, which works only if auth kept the refresh token Spotify rotated to;
    // the revoked user is asked for again and must not reach Spotify's token endpoint at all
    await stack.control.advance(30 * 60_000);
    await stack.control.request('POST', `/control/users/${ROTATED}/expire-access-tokens`);
    const before2 = await calls();
    const round2 = await stack.extract(USERS);
    const byUser2 = Object.fromEntries(USERS.map((u, i) => [u, round2[i]]));
    expect(byUser2[REVOKED]).toMatchObject({ state: 'failed', reason: 'user must log in again' });
    for (const u of HEALTHY) expect(byUser2[u]?.state, u).toBe('done');
    const after2 = await calls();
    expect(delta(after2, before2, ROTATED)).toEqual({ token: 1, recentlyPlayed: 2 });
    expect(delta(after2, before2, REVOKED)).toEqual({ token: 0, recentlyPlayed: 0 });

    // nothing goes on in the background: no retry loop of the failed user's jobs or refreshes
    const failedIds = [byUser1[REVOKED]?.id, byUser2[REVOKED]?.id].filter((id): id is string => !!id);
    await sleep(8_000);
    const later = await calls();
    expect(delta(later, after2, REVOKED)).toEqual({ token: 0, recentlyPlayed: 0 });
    for (const id of failedIds) {
      const job = await stack.queues.extractions.getJob(id);
      // failed once, for good (UnrecoverableError): attemptsMade 1, still failed after the wait
      expect({ state: await job?.getState(), attemptsMade: job?.attemptsMade }).toEqual({
        state: 'failed',
        attemptsMade: 1,
      });
    }
    const totalTokenCalls = USERS.map((u) => later[u]?.token ?? 0);
    console.log(
      `token calls per user over the whole test (login included): ${JSON.stringify(Object.fromEntries(USERS.map((u, i) => [u, totalTokenCalls[i]])))}`,
    );
    expect(Math.max(...totalTokenCalls)).toBeLessThanOrEqual(4);

    const { failedJobs, deadLetterJobs } = await stack.failuresAndDeadLetters();
    expect(failedJobs).toEqual({ extractions: failedIds.length, validation: 0, load: 0, 'dead-letters': 0 });
    expect(deadLetterJobs).toBe(0);
    const total = await stack.expectExact(HEALTHY);
    const revoked = await stack.expectExact([REVOKED], new Map([[REVOKED, revokedLedger]]));
    console.log(`token faults: ${total} plays of the healthy users and ${revoked} of the revoked one equal the ledger`);
    expect(stack.deadProcesses()).toEqual([]);
  });
});
