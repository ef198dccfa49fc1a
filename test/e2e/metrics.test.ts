// The metrics of every service, summed over the replicas, against what the store recorded (issue 8): after a run of
// several extractions (new plays, known plays, a page with poisoned records, a page with nothing new, a 429 and a
// QUOTA_EXCEEDED on the way), the counters of plays extracted, new, known and dead-lettered equal the totals of the
// extraction records exactly; Spotify calls equal what the simulator counted; and every process answers /healthz,
// /readyz and /metrics (the api's /metrics behind its token), with /readyz 503 once a dependency is gone.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Extraction } from '@playledger/store';
import { spawnService, type ServiceProcess } from '../support/processes.ts';
import { PAGES_DIR } from '../support/shared.ts';
import { Stack, WORKER_SERVICES, waitUntil } from '../support/stack.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as far as prom-client writes it: `name{a="b",...} value`. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

function sum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

interface RawItem {
  played_at: string;
  track: { name?: string; uri?: string; type: string };
}

function loadPage(name: string): { items: RawItem[] } & Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(PAGES_DIR, `${name}.json`), 'utf8')) as { items: RawItem[] };
}

interface RecordTotals {
  extractions: number;
  published: number;
  fetched: number;
  newPlays: number;
  knownPlays: number;
  deadLettered: number;
}

function totalsOf(records: readonly Extraction[]): RecordTotals {
  return {
    extractions: records.length,
    published: records.filter((e) => e.fetchedAt !== null).length,
    fetched: records.reduce((n, e) => n + (e.fetched ?? 0), 0),
    newPlays: records.reduce((n, e) => n + (e.newPlays ?? 0), 0),
    knownPlays: records.reduce((n, e) => n + (e.knownPlays ?? 0), 0),
    deadLettered: records.reduce((n, e) => n + (e.deadLettered ?? 0), 0),
  };
}

describe('metrics of every service against the extraction records', () => {
  let stack: Stack;
  let api: ServiceProcess;
  const users = ['m-natural', 'm-poison', 'm-limited'];

  beforeAll(async () => {
    stack = await Stack.start({
      label: 'metrics',
      replicas: 2,
      simEnv: { SIM_START_DAYS_AGO: '2' },
      // a QUOTA_EXCEEDED without Retry-After would otherwise pause the extractions for 15 minutes
      env: { SPOTIFY_QUOTA_PAUSE_MS: '1000' },
    });
    api = await spawnService({ name: 'api', script: 'services/api/src/main.ts', env: { ...stack.env, PORT: '0' } });
  });
  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
  });

  /** every product process: auth, the replicas of each worker, and the api */
  function productProcesses(): ServiceProcess[] {
    return [stack.auth, ...WORKER_SERVICES.flatMap((s) => stack.workers[s]), api];
  }

  async function scrape(p: ServiceProcess): Promise<Sample[]> {
    const headers: Record<string, string> = p === api ? { authorization: `Bearer ${stack.env.API_TOKEN}` } : {};
    const response = await fetch(new URL('/metrics', p.url), { headers });
    expect(response.status, `${p.name} /metrics`).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return parseMetrics(await response.text());
  }

  /** the samples of every replica of a service, together (a counter's sum over them is the service's total) */
  async function scrapeService(service: 'auth' | 'extractor' | 'validator' | 'loader' | 'api'): Promise<Sample[]> {
    const processes = service === 'auth' ? [stack.auth] : service === 'api' ? [api] : stack.workers[service];
    return (await Promise.all(processes.map(scrape))).flat();
  }

  it('every process answers /healthz and /readyz; workers serve /metrics openly, the api only with its token', async () => {
    for (const p of productProcesses()) {
      const health = await fetch(new URL('/healthz', p.url));
      expect(health.status, `${p.name} /healthz`).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(new URL('/readyz', p.url));
      const body = (await ready.json()) as { status: string; checks: Record<string, string> };
      expect(ready.status, `${p.name} /readyz ${JSON.stringify(body)}`).toBe(200);
      expect(body.status).toBe('ready');
      expect(Object.values(body.checks).every((c) => c === 'ok')).toBe(true);
    }
    expect((await fetch(new URL('/metrics', api.url))).status).toBe(401);
    expect((await scrape(api)).length).toBeGreaterThan(0);
  });

  it('after a run, the counters summed over replicas equal the extraction records and the simulator', async () => {
    const [natural, poison, limited] = users as [string, string, string];
    // one play an hour (two days of history: a full first page), so that a second read finds nothing new
    for (const id of users) {
      await stack.control.addUser({ id, playsPerHour: 1 });
      await stack.login(id);
    }

    // m-poison reads a full page with five poisoned records, the same page again (its clean plays now known, the
    // poisoned ones rejected again), then a short page of new plays
    const page = loadPage('before-full');
    const poisoned = structuredClone(page);
    const at = (i: number) => poisoned.items[i] as RawItem;
    delete at(3).track.name;
    at(4).played_at = 'yesterday afternoon';
    at(5).track.type = 'episode';
    at(6).played_at = new Date(Date.now() + 86_400_000).toISOString();
    delete at(7).track.uri;
    await stack.control.replayPages(poison, [poisoned, poisoned, loadPage('after-duplicates')]);
    // m-limited's first reads are answered 429 (rate limit) and 429 QUOTA_EXCEEDED
    await stack.control.addFault({ kind: 'rate-limit', endpoint: 'recently-played', userId: limited, count: 1, retryAfterSec: 1 });
    await stack.control.addFault({ kind: 'quota-exceeded', endpoint: 'recently-played', userId: limited, count: 1, retryAfterSec: 1 });

    const rounds: Extraction[][] = [];
    rounds.push(await stack.extract([natural, poison, limited]));
    // Spotify rejects m-natural's access token once: the extractor asks auth for a fresh one (one refresh grant)
    await stack.control.addFault({ kind: 'unauthorized', endpoint: 'recently-played', userId: natural, count: 1 });
    rounds.push(await stack.extract([natural, poison, limited])); // m-natural and m-limited: nothing new
    // a few new plays for m-natural: move the simulator's clock on until it has played them
    const before = (await stack.control.ledger(natural)).plays.length;
    while ((await stack.control.ledger(natural)).plays.length < before + 3) await stack.control.advance(3600_000);
    rounds.push(await stack.extract([natural, poison]));
    expect(rounds.map((r) => r.map((e) => e.state))).toEqual([
      ['done', 'done', 'done'],
      ['no_new_plays', 'done', 'no_new_plays'],
      ['done', 'done'],
    ]);

    const records = (await Promise.all(users.map((u) => stack.allExtractions(u)))).flat();
    const totals = totalsOf(records);
    // the run covers every kind of count
    expect(totals.newPlays).toBeGreaterThan(0);
    expect(totals.knownPlays).toBeGreaterThan(0);
    expect(totals.deadLettered).toBe(10);
    expect(records.filter((e) => e.state === 'no_new_plays')).toHaveLength(2);

    // The last counter moves just after the record is written: scrape until the sums settle (or time runs out),
    // then compare exactly.
    const observed = async () => {
      const [extractor, validator, loader] = await Promise.all([
        scrapeService('extractor'),
        scrapeService('validator'),
        scrapeService('loader'),
      ]);
      const all = [...extractor, ...validator, ...loader];
      return {
        extractions: sum(extractor, 'playledger_jobs_total', { queue: 'extractions', outcome: 'completed' }),
        published: sum(validator, 'playledger_jobs_total', { queue: 'validation', outcome: 'completed' }),
        fetched: sum(all, 'playledger_plays_extracted_total'),
        newPlays: sum(all, 'playledger_plays_new_total'),
        knownPlays: sum(all, 'playledger_plays_known_total'),
        deadLettered: sum(all, 'playledger_plays_dead_lettered_total'),
      };
    };
    let last = await observed();
    await waitUntil(
      async () => {
        last = await observed();
        return JSON.stringify(last) === JSON.stringify(totals) ? true : null;
      },
      15_000,
      'metrics to settle',
    ).catch(() => undefined);
    expect(last).toEqual(totals);

    // a page and a batch delivered again (as after a stalled worker) change neither the records nor the counters
    const again = rounds[0]?.[1] as Extraction;
    const raw = await stack.waitForJob(stack.queues.validation, `raw-${again.id}`);
    const batch = await stack.waitForJob(stack.queues.load, `load-${again.id}`);
    await stack.queues.validation.add('raw-page', raw.data, { jobId: `again-raw-${again.id}` });
    await stack.queues.load.add('load', batch.data, { jobId: `again-load-${again.id}` });
    await stack.waitForCompleted(stack.queues.validation, `again-raw-${again.id}`);
    await stack.waitForCompleted(stack.queues.load, `again-load-${again.id}`);
    expect(totalsOf((await Promise.all(users.map((u) => stack.allExtractions(u)))).flat())).toEqual(totals);
    expect({ ...(await observed()), published: totals.published }).toEqual(totals);

    // each count comes from one service only
    const byService = async (name: string) =>
      Object.fromEntries(
        await Promise.all(
          (['auth', 'extractor', 'validator', 'loader', 'api'] as const).map(
            async (s) => [s, sum(await scrapeService(s), name)] as const,
          ),
        ),
      );
    expect(await byService('playledger_plays_extracted_total')).toEqual({
      auth: 0,
      extractor: totals.fetched,
      validator: 0,
      loader: 0,
      api: 0,
    });
    expect(await byService('playledger_plays_new_total')).toMatchObject({ extractor: 0, validator: 0, loader: totals.newPlays });
    expect(await byService('playledger_plays_dead_lettered_total')).toMatchObject({
      validator: totals.deadLettered,
      loader: 0,
    });

    // dead-lettered by rule: the validator's counters against the dead letters the loader kept (times seen)
    const validator = await scrapeService('validator');
    const letters = await waitUntil(
      async () => {
        const items = (await stack.store.listDeadLetters({ userId: stack.userId(poison) }, { limit: 100 })).items;
        return items.reduce((n, d) => n + d.timesSeen, 0) === totals.deadLettered ? items : null;
      },
      20_000,
      'the dead letters to be kept',
    );
    const byRule = new Map<string, number>();
    for (const d of letters) byRule.set(d.rule, (byRule.get(d.rule) ?? 0) + d.timesSeen);
    for (const [rule, n] of byRule) {
      expect(sum(validator, 'playledger_plays_dead_lettered_total', { stage: 'validator', rule }), rule).toBe(n);
    }
    expect(sum(await scrapeService('loader'), 'playledger_jobs_total', { queue: 'dead-letters', outcome: 'completed' })).toBe(
      totals.deadLettered,
    );

    // Spotify calls: what the extractor and auth counted is what the simulator answered; 429s apart by kind
    const [extractor, auth] = await Promise.all([scrapeService('extractor'), scrapeService('auth')]);
    const calls = (await stack.control.calls()).total;
    const spotify = [...extractor, ...auth];
    expect(sum(spotify, 'playledger_spotify_calls_total', { endpoint: 'recently-played' })).toBe(calls['recently-played']);
    expect(sum(spotify, 'playledger_spotify_calls_total', { endpoint: 'token' })).toBe(calls.token);
    // (libs/spotify labels a rate limit '429', a QUOTA_EXCEEDED '429-quota-exceeded')
    expect(sum(extractor, 'playledger_spotify_calls_total', { outcome: '429' })).toBe(1);
    expect(sum(extractor, 'playledger_spotify_calls_total', { outcome: '429-quota-exceeded' })).toBe(1);
    expect(sum(extractor, 'playledger_jobs_total', { queue: 'extractions', outcome: 'rate-limited' })).toBe(1);
    expect(sum(extractor, 'playledger_jobs_total', { queue: 'extractions', outcome: 'quota-exceeded' })).toBe(1);

    // gaps: the loader's counter against the gaps stored
    const gaps = (await stack.store.listGaps({ limit: 100 })).items.length;
    expect(sum(await scrapeService('loader'), 'playledger_gaps_total')).toBe(gaps);

    // job durations of every queue, from the service that runs the jobs
    const loader = await scrapeService('loader');
    expect(sum(extractor, 'playledger_job_duration_seconds_count', { queue: 'extractions' })).toBeGreaterThanOrEqual(
      totals.extractions,
    );
    // (each ran once more for the delivery again above)
    expect(sum(validator, 'playledger_job_duration_seconds_count', { queue: 'validation' })).toBe(totals.published + 1);
    expect(sum(loader, 'playledger_job_duration_seconds_count', { queue: 'load' })).toBe(totals.published + 1);
    expect(sum(loader, 'playledger_job_duration_seconds_count', { queue: 'dead-letters' })).toBe(totals.deadLettered);

    // the api's gauges: jobs per queue and state, users, and per user the time since the last successful extraction
    const apiSamples = await scrapeService('api');
    for (const queue of ['extractions', 'validation', 'load', 'dead-letters']) {
      expect(apiSamples.some((s) => s.name === 'playledger_queue_jobs' && s.labels.queue === queue), queue).toBe(true);
    }
    expect(sum(apiSamples, 'playledger_queue_jobs', { queue: 'extractions', state: 'completed' })).toBe(
      totals.extractions,
    );
    expect(sum(apiSamples, 'playledger_users_needs_reauth')).toBe(0);
    expect(sum(apiSamples, 'playledger_users_refresh_token_expiring')).toBe(0);
    for (const u of users) {
      const since = apiSamples.filter(
        (s) => s.name === 'playledger_seconds_since_last_successful_extraction' && s.labels.user === stack.userId(u),
      );
      expect(since, u).toHaveLength(1);
      expect(since[0]?.value).toBeGreaterThanOrEqual(0);
      expect(since[0]?.value).toBeLessThan(600);
    }
    expect(sum(auth, 'playledger_users_needs_reauth')).toBe(0);
    // token grants: one per login (authorization code) and the one refresh forced by the 401
    expect(sum(extractor, 'playledger_spotify_calls_total', { endpoint: 'recently-played', outcome: '401' })).toBe(1);
    expect(sum(auth, 'playledger_token_refreshes_total')).toBe(1);
    expect(sum(auth, 'playledger_spotify_calls_total', { endpoint: 'token' })).toBe(users.length + 1);
  });

  it('left no error in any log', () => {
    const errors = [...stack.errorLines(), ...api.find((l) => typeof l.json?.level === 'number' && l.json.level >= 50)];
    expect(errors).toEqual([]);
  });

  it('/readyz answers 503 naming the dependency once it is gone (auth, for the extractor)', async () => {
    await stack.auth.stop();
    const extractor = stack.workers.extractor[0] as ServiceProcess;
    const ready = await fetch(new URL('/readyz', extractor.url));
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not ready');
    expect(body.checks).toMatchObject({ redis: 'ok', store: 'ok' });
    expect(body.checks.auth).not.toBe('ok');
    expect((await fetch(new URL('/healthz', extractor.url))).status).toBe(200);
  });
});
