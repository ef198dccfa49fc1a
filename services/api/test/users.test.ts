import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledUsers, scheduleUser } from '@playledger/common';
import { authKeys } from '../../auth/src/keys.ts';
import { accessTokenCacheKey as cachedTokenKey } from '@playledger/common';
import { seedPlays, seedUser, startHarness, type Harness } from './harness.ts';

const DAY = 24 * 3600 * 1000;
let h: Harness;

function monthsAgo(months: number, plusDays = 0): Date {
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() - months);
  return new Date(d.getTime() + plusDays * DAY);
}

beforeAll(async () => {
  h = await startHarness('users');
  await seedUser(h.store, 'erin', { authorizedAt: monthsAgo(1) });
  await seedUser(h.store, 'frank', { authorizedAt: monthsAgo(6, 10) }); // ends in 10 days
  await seedUser(h.store, 'gina', { authorizedAt: monthsAgo(6, -3) }); // ended 3 days ago
  await seedUser(h.store, 'hank', { status: 'needs_reauth', reason: 'invalid_grant: Refresh token revoked' });
  await seedPlays(h.store, 'erin', 30);
});
afterAll(async () => {
  await h?.close();
});

describe('users', () => {
  it('lists users, by status', async () => {
    const all = await h.call({ method: 'GET', url: '/users' });
    expect(all.statusCode).toBe(200);
    expect(all.json<{ items: { userId: string }[] }>().items.map((u) => u.userId).sort()).toEqual(['erin', 'frank', 'gina', 'hank']);
    const reauth = await h.call({ method: 'GET', url: '/users?status=needs_reauth' });
    expect(reauth.json()).toMatchObject({ items: [{ userId: 'hank', status: 'needs_reauth', statusReason: 'invalid_grant: Refresh token revoked' }] });
    const bad = await h.call({ method: 'GET', url: '/users?status=sleeping' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'querystring/status' });
  });

  it("one user's status: authorization, refresh token end, last extraction, newest play, count, gaps", async () => {
    const res = await h.call({ method: 'GET', url: '/users/erin' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      user: { authorizedAt: string; refreshTokenEndsAt: string; status: string };
      lastExtraction: { state: string } | null;
      newestPlayAt: string | null;
      playCount: number;
      gaps: unknown[];
      scheduled: boolean;
    }>();
    const authorized = new Date(body.user.authorizedAt);
    const ends = new Date(authorized);
    ends.setUTCMonth(ends.getUTCMonth() + 6);
    expect(body.user.refreshTokenEndsAt).toBe(ends.toISOString());
    expect(body).toMatchObject({ playCount: 30, gaps: [], scheduled: false, lastExtraction: { state: 'done' } });
    expect(body.newestPlayAt).not.toBeNull();
    expect((await h.call({ method: 'GET', url: '/users/nobody' })).statusCode).toBe(404);
  });

  it('pause removes the schedule; resume brings it back; a needs_reauth user cannot be resumed', async () => {
    await scheduleUser(h.queues.extractions, 'erin', 600_000);
    const paused = await h.call({ method: 'POST', url: '/users/erin/pause', payload: { reason: 'moving house' } });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused', statusReason: 'moving house' });
    expect(await scheduledUsers(h.queues.extractions)).not.toContain('erin');

    const resumed = await h.call({ method: 'POST', url: '/users/erin/resume' });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ status: 'active', statusReason: null });
    expect(await scheduledUsers(h.queues.extractions)).toContain('erin');
    expect((await h.call({ method: 'GET', url: '/users/erin' })).json()).toMatchObject({ scheduled: true });

    const noBody = await h.call({ method: 'POST', url: '/users/frank/pause' });
    expect(noBody.json()).toMatchObject({ status: 'paused', statusReason: 'paused by an operator' });
    await h.call({ method: 'POST', url: '/users/frank/resume' });

    const reauth = await h.call({ method: 'POST', url: '/users/hank/resume' });
    expect(reauth.statusCode).toBe(409);
    expect((await h.call({ method: 'POST', url: '/users/nobody/pause' })).statusCode).toBe(404);
    expect((await h.call({ method: 'POST', url: '/users/nobody/resume' })).statusCode).toBe(404);
    const tooLong = await h.call({ method: 'POST', url: '/users/erin/pause', payload: { reason: 'x'.repeat(501) } });
    expect(tooLong.statusCode).toBe(400);
  });

  it('users whose refresh token ends within 14 days, with the re-login link', async () => {
    const res = await h.call({ method: 'GET', url: '/users/expiring' });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: { user: { userId: string }; expired: boolean; reloginUrl: string }[] }>().items;
    expect(items.map((i) => [i.user.userId, i.expired]).sort()).toEqual([
      ['frank', false],
      ['gina', true],
    ]);
    expect(items.every((i) => i.reloginUrl === 'http://auth.test:8081/login')).toBe(true);
    const wide = await h.call({ method: 'GET', url: '/users/expiring?withinDays=366' });
    expect(wide.json<{ items: unknown[] }>().items.length).toBe(4);
    expect((await h.call({ method: 'GET', url: '/users/expiring?withinDays=-1' })).statusCode).toBe(400);
  });

  it('delete removes credentials, the cached token and the schedule at once; plays stay unless purged', async () => {
    // the key auth itself builds for its token cache, so a format drift breaks this test
    const key = authKeys(h.prefix).token('erin');
    expect(cachedTokenKey(h.prefix, 'erin')).toBe(key);
    await h.redis.set(key, JSON.stringify({ keyId: 'k1', ciphertext: 'x', expiresAt: new Date(Date.now() + 3600_000) }));
    await scheduleUser(h.queues.extractions, 'erin', 600_000);

    const res = await h.call({ method: 'DELETE', url: '/users/erin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'erin', deleted: true, purged: false, scheduleRemoved: true, cachedTokenRemoved: true });
    expect(await h.store.getCredentials('erin')).toBeNull();
    expect(await h.store.getUser('erin')).toBeNull();
    expect(await h.redis.exists(key)).toBe(0);
    expect(await scheduledUsers(h.queues.extractions)).not.toContain('erin');
    expect(await h.store.countPlays('erin')).toBe(30);
    expect((await h.call({ method: 'DELETE', url: '/users/erin' })).statusCode).toBe(404);

    await seedPlays(h.store, 'frank', 5);
    const purged = await h.call({ method: 'DELETE', url: '/users/frank?purge=true' });
    expect(purged.json()).toMatchObject({ deleted: true, purged: true });
    expect(await h.store.countPlays('frank')).toBe(0);
    const bad = await h.call({ method: 'DELETE', url: '/users/gina?purge=maybe' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'querystring/purge' });
  });
});
