// Real-shaped pages replayed through the whole pipeline (the simulator answers them in order): what loads is exactly
// their distinct plays; poisoned records go to dead_letters with their rule and the rest load; a page delivered three
// times loads once; whole-second and millisecond instants of one stream are one play; a poisoned record seen by
// several extractions keeps one dead letter with its count.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '@playledger/store';
import { compareWithLedger, describeComparison, playKey } from '../support/ledger-compare.ts';
import type { LedgerPlay } from '../support/sim-control.ts';
import { PAGES_DIR } from '../support/shared.ts';
import { Stack } from '../support/stack.ts';


interface RawItem {
  played_at: string;
  context: { uri: string } | null;
  track: {
    uri: string;
    id: string | null;
    name: string;
    duration_ms: number;
    is_local: boolean;
    type: string;
    external_ids?: { isrc?: string };
    album?: { name: string };
    artists: { name: string }[];
  };
}
interface RawPage {
  items: RawItem[];
  [key: string]: unknown;
}

function loadPage(name: string): RawPage {
  return JSON.parse(readFileSync(path.join(PAGES_DIR, `${name}.json`), 'utf8')) as RawPage;
}

/** A page of these items, shaped like a real one (newest first). */
function pageOf(items: RawItem[], template = loadPage('before-full')): RawPage {
  return { ...template, items, limit: 50 };
}

/** What the ledger would say about a raw item. */
function asLedger(item: RawItem): LedgerPlay {
  return {
    playedAt: item.played_at,
    playedAtMs: Date.parse(item.played_at),
    trackUri: item.track.uri,
    trackId: item.track.id,
    trackName: item.track.name,
    artistNames: item.track.artists.map((a) => a.name),
    albumName: item.track.album?.name ?? null,
    durationMs: item.track.duration_ms,
    playedMs: item.track.duration_ms,
    contextUri: item.context?.uri ?? null,
    isLocal: item.track.is_local,
    isrc: item.track.external_ids?.isrc ?? null,
    quirks: [],
  };
}

/** The distinct plays of raw items: exact duplicates collapse, and a play of the same track within 2 s is one play. */
function distinctPlays(items: readonly RawItem[]): LedgerPlay[] {
  const sorted = items.map(asLedger).sort((a, b) => a.playedAtMs - b.playedAtMs);
  const kept: LedgerPlay[] = [];
  for (const play of sorted) {
    const same = kept.find((k) => k.trackUri === play.trackUri && Math.abs(k.playedAtMs - play.playedAtMs) <= 2_000);
    if (!same) kept.push(play);
  }
  return kept;
}

const TRACK_FIELDS = new Set(['trackId', 'trackName', 'artistNames', 'albumName', 'durationMs', 'isLocal', 'isrc']);

/**
 * The database against the distinct plays of raw items. A track is kept once (catalog data, the last version loaded
 * wins), while the synthetic pages give some tracks a different ISRC at different plays: a track-level field is
 * right when it holds a value one of that track's items had; play-level fields (key, context) must match exactly.
 */
function compareWithItems(items: readonly RawItem[], stored: Parameters<typeof compareWithLedger>[1]) {
  const c = compareWithLedger(distinctPlays(items), stored);
  const seen = new Map<string, Set<string>>();
  for (const item of items) {
    const ledger = asLedger(item) as unknown as Record<string, unknown>;
    for (const field of TRACK_FIELDS) {
      const key = `${item.track.uri} ${field}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(JSON.stringify(ledger[field] ?? null)));
    }
  }
  c.differences = c.differences.filter((d) => {
    if (!TRACK_FIELDS.has(d.field)) return true;
    const uri = d.key.slice(d.key.indexOf(' ') + 1);
    return !seen.get(`${uri} ${d.field}`)?.has(JSON.stringify(d.stored ?? null));
  });
  return c;
}

function withoutMarkets(item: unknown): unknown {
  const copy = structuredClone(item) as { track?: { available_markets?: unknown; album?: { available_markets?: unknown } } };
  delete copy.track?.available_markets;
  delete copy.track?.album?.available_markets;
  return copy;
}

function shifted(item: RawItem, playedAt: string, track?: Partial<RawItem['track']>): RawItem {
  const copy = structuredClone(item);
  copy.played_at = playedAt;
  Object.assign(copy.track, track);
  return copy;
}

describe('real-shaped pages through the whole pipeline', () => {
  let stack: Stack;
  const users: string[] = [];
  beforeAll(async () => {
    stack = await Stack.start({ label: 'pages', simEnv: { SIM_START_DAYS_AGO: '2' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function newUser(id: string): Promise<string> {
    await stack.control.addUser({ id, playsPerHour: 1 });
    await stack.login(id);
    users.push(id);
    return id;
  }

  async function deadLettersOf(simUserId: string): Promise<DeadLetter[]> {
    return (await stack.store.listDeadLetters({ userId: stack.userId(simUserId) }, { limit: 100 })).items;
  }

  it('loads exactly the distinct plays of the real pages', async () => {
    const user = await newUser('pages-real');
    const names = ['before-full', 'after-mixed-precision', 'after-duplicates', 'empty'];
    const pages = names.map(loadPage);
    await stack.control.replayPages(user, pages);
    const states: string[] = [];
    for (const _ of names) {
      const [e] = await stack.extract([user]);
      states.push(e?.state ?? 'none');
    }
    expect(states).toEqual(['done', 'done', 'done', 'no_new_plays']);

    const stored = await stack.storedPlays(user);
    const c = compareWithItems(
      pages.flatMap((p) => p.items),
      stored,
    );
    expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, describeComparison(c)).toBe(0);
    // the quirks are there and right: two tracks at one instant, a played_at without milliseconds
    const duplicates = loadPage('after-duplicates').items;
    const instants = new Map<string, Set<string>>();
    for (const i of duplicates) instants.set(i.played_at, (instants.get(i.played_at) ?? new Set()).add(i.track.uri));
    const [sharedInstant, tracks] = [...instants].find(([, t]) => t.size > 1) ?? [];
    expect(tracks?.size).toBe(2);
    expect(stored.filter((p) => p.playedAt === new Date(sharedInstant ?? 0).toISOString())).toHaveLength(2);
    const whole = loadPage('after-mixed-precision').items.find((i) => !i.played_at.includes('.'));
    expect(whole).toBeDefined();
    expect(stored.some((p) => p.playedAt === new Date(whole?.played_at ?? 0).toISOString() && p.track.uri === whole?.track.uri)).toBe(true);
  });

  it('puts exactly the poisoned records in dead_letters with their rules, and loads the rest', async () => {
    const user = await newUser('pages-poisoned');
    const page = loadPage('before-full');
    const items = page.items as unknown as Record<string, unknown>[];
    const poison = (i: number, fn: (item: RawItem) => void) => fn(items[i] as unknown as RawItem);
    poison(3, (i) => delete (i.track as Partial<RawItem['track']>).name);
    poison(4, (i) => (i.played_at = 'yesterday afternoon'));
    poison(5, (i) => (i.track.type = 'episode'));
    poison(6, (i) => (i.played_at = new Date(Date.now() + 86_400_000).toISOString()));
    poison(7, (i) => delete (i.track as Partial<RawItem['track']>).uri);
    const poisoned = [3, 4, 5, 6, 7];
    await stack.control.replayPages(user, [page]);
    const [e] = await stack.extract([user]);
    const clean = page.items.filter((_, i) => !poisoned.includes(i));
    const expected = distinctPlays(clean);
    expect(e).toMatchObject({ state: 'done', deadLettered: 5, newPlays: expected.length });
    const c = compareWithItems(clean, await stack.storedPlays(user));
    expect(c.missing.length + c.extra.length + c.doubled.length + c.differences.length, describeComparison(c)).toBe(0);

    const letters = await waitForDeadLetters(() => deadLettersOf(user), 5);
    expect(letters.map((d) => d.rule).sort()).toEqual(
      ['missing-value', 'missing-value', 'not-a-track', 'played-at-in-future', 'played-at-unparseable'].sort(),
    );
    for (const d of letters) {
      expect(d).toMatchObject({ stage: 'validator', extractionId: e?.id, timesSeen: 1, status: 'open' });
      expect(d.message.length).toBeGreaterThan(10);
      // the original record, as the extractor published it (without available_markets)
      expect(poisoned.map((i) => withoutMarkets(items[i]))).toContainEqual(d.record);
    }
    expect(letters.find((d) => d.rule === 'not-a-track')?.field).toBeTruthy();
  });

  it('loads a page delivered three times once; its record still says new = N, known = 0', async () => {
    const user = await newUser('pages-thrice');
    await stack.control.replayPages(user, [loadPage('after-mixed-precision')]);
    const [e] = await stack.extract([user]);
    const n = distinctPlays(loadPage('after-mixed-precision').items).length;
    expect(e).toMatchObject({ state: 'done', newPlays: n, knownPlays: 0 });
    const id = e?.id ?? '';

    // the raw page delivered again to the validator, and the batch delivered again to the loaders
    const raw = await stack.waitForJob(stack.queues.validation, `raw-${id}`);
    const load = await stack.waitForJob(stack.queues.load, `load-${id}`);
    for (const k of [2, 3]) {
      await stack.queues.validation.add('raw-page', raw.data, { jobId: `raw-${id}-delivery-${k}` });
      await stack.queues.load.add('load', load.data, { jobId: `load-${id}-delivery-${k}` });
    }
    for (const k of [2, 3]) {
      await stack.waitForCompleted(stack.queues.validation, `raw-${id}-delivery-${k}`);
      await stack.waitForCompleted(stack.queues.load, `load-${id}-delivery-${k}`);
    }
    // and the extraction request itself delivered again
    await stack.queues.extractions.add('manual-extraction', { userId: stack.userId(user), trigger: 'manual', extractionId: id }, { jobId: `${id}-again` });
    await stack.waitForCompleted(stack.queues.extractions, `${id}-again`);

    expect(await stack.store.getExtraction(id)).toMatchObject({ state: 'done', newPlays: n, knownPlays: 0 });
    const stored = await stack.storedPlays(user);
    expect(stored).toHaveLength(n);
    expect(new Set(stored.map((p) => playKey(p.track.uri, Date.parse(p.playedAt)))).size).toBe(n);
  });

  it('a whole-second play and the polled millisecond play of the same track are one play; two tracks at one instant are two', async () => {
    const user = await newUser('pages-precision');
    const [a, b] = loadPage('before-full').items as [RawItem, RawItem];
    const base = Date.now() - 3 * 3_600_000;
    const whole = new Date(Math.floor(base / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const withMillis = new Date(Math.floor(base / 1000) * 1000 + 412).toISOString();
    const first = pageOf([shifted(a, whole)]);
    // the next poll lists the same stream with milliseconds, and another track ending at that very instant
    const second = pageOf([shifted(b, withMillis), shifted(a, withMillis)]);
    await stack.control.replayPages(user, [first, second]);
    const [e1] = await stack.extract([user]);
    const [e2] = await stack.extract([user]);
    expect(e1).toMatchObject({ state: 'done', newPlays: 1 });
    expect(e2).toMatchObject({ state: 'done', newPlays: 1, knownPlays: 1 });
    const stored = await stack.storedPlays(user);
    expect(stored.map((p) => [p.track.uri, p.playedAt]).sort()).toEqual(
      [
        [a.track.uri, new Date(whole).toISOString()],
        [b.track.uri, withMillis],
      ].sort(),
    );
  });

  it('a poisoned record visible for several extractions keeps one dead letter with its count', async () => {
    const user = await newUser('pages-repeat');
    const items = loadPage('after-duplicates').items.slice(3);
    const bad = structuredClone(items[1]) as RawItem;
    delete (bad.track as Partial<RawItem['track']>).name;
    const page = pageOf([items[0] as RawItem, bad, ...items.slice(2)]);
    await stack.control.replayPages(user, [page, page, page]);
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push((await stack.extract([user]))[0]);
    expect(runs.map((r) => r?.state)).toEqual(['done', 'done', 'done']);
    expect(runs.map((r) => r?.deadLettered)).toEqual([1, 1, 1]);
    const letters = await waitForDeadLetters(
      async () => (await deadLettersOf(user)).filter((d) => d.timesSeen >= 3),
      1,
    );
    expect(letters).toHaveLength(1);
    expect(await deadLettersOf(user)).toHaveLength(1);
    expect(letters[0]).toMatchObject({ rule: 'missing-value', timesSeen: 3, stage: 'validator' });
  });

  it('left no error in any log and no secret in any line', () => {
    expect(stack.errorLines()).toEqual([]);
    const secrets = stack.secrets();
    expect(stack.logLines((l) => secrets.some((s) => l.text.includes(s)))).toEqual([]);
  });
});

/** Dead letters travel their own queue: wait until `count` are kept. */
async function waitForDeadLetters(list: () => Promise<DeadLetter[]>, count: number): Promise<DeadLetter[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const letters = await list();
    if (letters.length >= count || Date.now() > deadline) return letters;
    await new Promise((r) => setTimeout(r, 50));
  }
}
