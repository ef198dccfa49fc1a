import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, seedPlays, seedUser, type Harness } from './harness.ts';

interface Started {
  extractions: { userId: string; extractionId: string; created: boolean; extraction: { state: string } }[];
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness('extractions');
  await seedUser(h.store, 'alice');
  await seedUser(h.store, 'bob');
  await seedUser(h.store, 'carol', { status: 'paused', reason: 'holiday' });
  await seedUser(h.store, 'dave', { status: 'needs_reauth', reason: 'invalid_grant' });
});
afterAll(async () => {
  await h?.close();
});

describe('POST /extractions', () => {
  it('starts one extraction for one user: a record and one job with jobId = extractionId', async () => {
    const res = await h.call({ method: 'POST', url: '/extractions', payload: { userId: 'alice' } });
    expect(res.statusCode).toBe(202);
    const body = res.json<Started>();
    expect(body.extractions).toHaveLength(1);
    const [first] = body.extractions;
    expect(first).toMatchObject({ userId: 'alice', created: true, extraction: { state: 'pending' } });
    const job = await h.queues.extractions.getJob(first!.extractionId);
    expect(job?.data).toEqual({ userId: 'alice', trigger: 'manual', extractionId: first!.extractionId });
    expect(await h.store.getExtraction(first!.extractionId)).toMatchObject({ userId: 'alice', trigger: 'manual', state: 'pending' });
  });

  it('asked again while pending (also concurrently) returns the same extraction and adds no second job', async () => {
    const before = await h.queues.extractions.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized');
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(() => h.call({ method: 'POST', url: '/extractions', payload: { userId: 'alice' } })),
    );
    const ids = [a, b, c].map((r) => r!.json<Started>().extractions[0]);
    expect(new Set(ids.map((e) => e!.extractionId)).size).toBe(1);
    expect(ids.every((e) => e!.created === false)).toBe(true);
    expect(await h.queues.extractions.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized')).toBe(before);
  });

  it('without a user: one extraction per active user (paused and needs_reauth left out)', async () => {
    const res = await h.call({ method: 'POST', url: '/extractions', payload: {} });
    expect(res.statusCode).toBe(202);
    const body = res.json<Started>();
    expect(body.extractions.map((e) => e.userId).sort()).toEqual(['alice', 'bob']);
    expect(body.extractions.find((e) => e.userId === 'alice')?.created).toBe(false);
    expect(body.extractions.find((e) => e.userId === 'bob')?.created).toBe(true);
    // no body at all works too
    const empty = await h.call({ method: 'POST', url: '/extractions' });
    expect(empty.statusCode).toBe(202);
    expect(empty.json<Started>().extractions.every((e) => !e.created)).toBe(true);
  });

  it('a final extraction is not reused: the next request starts a new one', async () => {
    const pending = await h.store.findPendingExtraction('bob');
    await h.store.finishExtraction(pending!.id, 'no_new_plays', null);
    const res = await h.call({ method: 'POST', url: '/extractions', payload: { userId: 'bob' } });
    const [e] = res.json<Started>().extractions;
    expect(e!.created).toBe(true);
    expect(e!.extractionId).not.toBe(pending!.id);
  });

  it('errors: unknown user 404, paused or needs_reauth 409, bad userId 400 naming the field', async () => {
    const unknown = await h.call({ method: 'POST', url: '/extractions', payload: { userId: 'nobody' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'not_found' });
    for (const userId of ['carol', 'dave']) {
      const res = await h.call({ method: 'POST', url: '/extractions', payload: { userId } });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: 'conflict' });
    }
    const bad = await h.call({ method: 'POST', url: '/extractions', payload: { userId: '' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'bad_request', field: 'body/userId' });
    const notJson = await h.call({
      method: 'POST',
      url: '/extractions',
      headers: { 'content-type': 'application/json' },
      payload: '{"userId":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json<{ error: string }>().error).toBeTruthy();
  });
});

describe('GET /extractions/{id} and GET /extractions', () => {
  it('reports state per stage, then the counts once loaded', async () => {
    const [id] = await seedPlays(h.store, 'bob', 40);
    const res = await h.call({ method: 'GET', url: `/extractions/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      userId: 'bob',
      state: 'done',
      stages: { extract: 'done', validate: 'done', load: 'done' },
      counts: { fetched: 40, new: 40, known: 0, deadLettered: 0 },
      gapId: null,
      gap: null,
    });
    const pending = (await h.store.findPendingExtraction('alice'))!;
    const p = await h.call({ method: 'GET', url: `/extractions/${pending.id}` });
    expect(p.json()).toMatchObject({
      state: 'pending',
      stages: { extract: 'running', validate: 'pending', load: 'pending' },
      counts: { fetched: null, new: null },
    });
  });

  it('unknown id 404', async () => {
    const res = await h.call({ method: 'GET', url: '/extractions/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found', message: 'no extraction nope' });
  });

  it('lists newest first, filters by user and state, and pages with a cursor', async () => {
    const all = await h.call({ method: 'GET', url: '/extractions?userId=bob' });
    const items = all.json<{ items: { userId: string; state: string; requestedAt: string }[] }>().items;
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.every((e) => e.userId === 'bob')).toBe(true);
    const done = await h.call({ method: 'GET', url: '/extractions?userId=bob&state=done' });
    expect(done.json<{ items: { state: string }[] }>().items.every((e) => e.state === 'done')).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await h.call({ method: 'GET', url: `/extractions?limit=1${q}` })).json<{
        items: { id: string }[];
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    const total = (await h.call({ method: 'GET', url: '/extractions?limit=500' })).json<{ items: unknown[] }>().items.length;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('bad filters and page sizes: 400 naming the field', async () => {
    for (const [query, field] of [
      ['state=bogus', 'querystring/state'],
      ['limit=0', 'querystring/limit'],
      ['limit=501', 'querystring/limit'],
      ['limit=ten', 'querystring/limit'],
    ] as const) {
      const res = await h.call({ method: 'GET', url: `/extractions?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toMatchObject({ error: 'bad_request', field });
    }
  });
});
