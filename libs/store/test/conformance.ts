// The one conformance suite every Store adapter runs (PostgreSQL always, SQL Server where one is reachable).
// It speaks only the Store interface, plus an optional reader of the my_played_tracks view (SQL, adapter-specific).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterJob, LoadJob, NormalizedPlay, NormalizedTrack } from '@playledger/common';
import type { Extraction, Store, StoredPlay, UserLogin } from '../src/types.ts';

/** One row of the view my_played_tracks (the original ETL's columns). */
export interface PlayedTrackViewRow {
  primary_key: string;
  song_name: string;
  artist_name: string | null;
  timestamp: string;
}

export interface StoreUnderTest {
  /** a store on a fresh database, NOT migrated yet: the suite migrates it (and migrates it again) */
  store: Store;
  /** closes the store and drops the database */
  cleanup: () => Promise<void>;
  /** the view's rows for one user ordered by primary_key; without it the view tests are skipped, saying so */
  readPlayedTracksView?: (userId: string) => Promise<PlayedTrackViewRow[]>;
}

// ---------- builders ----------

const BASE = Date.parse('2026-03-01T08:00:00.000Z');
const MINUTE = 60_000;

function uid(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

function at(offsetMs: number): Date {
  return new Date(BASE + offsetMs);
}

function login(userId: string, overrides: Partial<UserLogin> = {}): UserLogin {
  return {
    userId,
    spotifyId: `sp-${userId}`,
    accountId: userId,
    displayName: `Name of ${userId}`,
    refreshToken: { keyId: 'k1', ciphertext: `cipher-${userId}` },
    scope: 'user-read-recently-played',
    authorizedAt: at(0),
    ...overrides,
  };
}

function track(n: string, artists = 2): NormalizedTrack {
  const list = Array.from({ length: artists }, (_, i) => ({
    uri: `spotify:artist:ar${n}x${i}`,
    id: `ar${n}x${i}`,
    name: `Artist ${n}/${i}`,
  }));
  return {
    uri: `spotify:track:tr${n}`,
    id: `tr${n}`,
    name: `Song ${n}`,
    durationMs: 180_000 + Number.parseInt(n.replace(/\D/g, '') || '0', 10),
    explicit: n.endsWith('1'),
    isrc: `ISRC${n}`,
    isLocal: false,
    discNumber: 1,
    trackNumber: 3,
    album: {
      uri: `spotify:album:al${n}`,
      id: `al${n}`,
      name: `Album ${n}`,
      albumType: 'album',
      releaseDate: '2024-05-17',
      artists: list.slice(0, 1),
    },
    artists: list,
  };
}

function play(trackKey: string, playedAt: Date | string, context = true): NormalizedPlay {
  return {
    playedAt: typeof playedAt === 'string' ? playedAt : playedAt.toISOString(),
    track: track(trackKey),
    context: context ? { type: 'playlist', uri: `spotify:playlist:pl${trackKey}` } : null,
  };
}

/** `count` plays of distinct tracks, 3 minutes apart, the oldest at `oldest` */
function run(prefix: string, oldest: Date, count: number): NormalizedPlay[] {
  return Array.from({ length: count }, (_, i) => play(`${prefix}${i}`, new Date(oldest.getTime() + i * 3 * MINUTE)));
}

function loadJob(
  userId: string,
  extractionId: string,
  plays: NormalizedPlay[],
  opts: { full?: boolean; fetchedAt?: Date } = {},
): LoadJob {
  const times = plays.map((p) => p.playedAt).sort();
  return {
    extractionId,
    userId,
    fetchedAt: (opts.fetchedAt ?? new Date()).toISOString(),
    plays,
    page: {
      fetched: plays.length,
      full: opts.full ?? false,
      oldestPlayedAt: times[0] ?? null,
      newestPlayedAt: times[times.length - 1] ?? null,
      deadLettered: 0,
      duplicatesCollapsed: 0,
    },
  };
}

function deadLetterJob(userId: string, extractionId: string, overrides: Partial<DeadLetterJob> = {}): DeadLetterJob {
  return {
    extractionId,
    userId,
    stage: 'validator',
    rule: 'required',
    field: '/track/uri',
    message: 'the track has no URI',
    record: { played_at: '2026-03-01T08:00:00.000Z', track: { name: 'x', uri: null } },
    rejectedAt: new Date().toISOString(),
    ...overrides,
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

// ---------- the suite ----------

export function describeStoreConformance(adapterName: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store conformance: ${adapterName}`, () => {
    let sut: StoreUnderTest;
    let store: Store;
    let firstMigration: { applied: string[] };

    beforeAll(async () => {
      sut = await makeStore();
      store = sut.store;
      firstMigration = await store.migrate();
    });
    afterAll(async () => {
      await sut?.cleanup();
    });

    /** starts, marks fetched and loads one extraction */
    async function extract(
      userId: string,
      plays: NormalizedPlay[],
      opts: { full?: boolean; fetchedAt: Date; id?: string; load?: boolean },
    ): Promise<{ id: string; job: LoadJob }> {
      const id = opts.id ?? uid('ex');
      const job = loadJob(userId, id, plays, opts);
      await store.startExtraction({ id, userId, trigger: 'scheduled', requestedAt: opts.fetchedAt });
      await store.markExtractionFetched(id, {
        fetchedAt: opts.fetchedAt,
        fetched: plays.length,
        full: opts.full ?? false,
        oldestPlayedAt: job.page.oldestPlayedAt ? new Date(job.page.oldestPlayedAt) : null,
        newestPlayedAt: job.page.newestPlayedAt ? new Date(job.page.newestPlayedAt) : null,
      });
      if (opts.load !== false) await store.loadBatch(job);
      return { id, job };
    }

    describe('migrations and health', () => {
      it('migrates a fresh database, and migrating again applies nothing', async () => {
        expect(firstMigration.applied.length).toBeGreaterThan(0);
        expect(await store.migrate()).toEqual({ applied: [] });
      });

      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        expect(store.kind).toMatch(/^(postgres|mssql)$/);
      });
    });

    describe('users and credentials', () => {
      it('saveLogin creates an active user with its credentials', async () => {
        const id = uid('user');
        const user = await store.saveLogin(login(id));
        expect(user).toMatchObject({
          userId: id,
          spotifyId: `sp-${id}`,
          accountId: id,
          displayName: `Name of ${id}`,
          status: 'active',
          statusReason: null,
        });
        expect(user.authorizedAt.toISOString()).toBe(at(0).toISOString());
        expect(user.createdAt).toBeInstanceOf(Date);
        expect(await store.getUser(id)).toEqual(user);
        const creds = await store.getCredentials(id);
        expect(creds).toMatchObject({
          userId: id,
          refreshToken: { keyId: 'k1', ciphertext: `cipher-${id}` },
          scope: 'user-read-recently-played',
        });
        expect(creds?.updatedAt).toBeInstanceOf(Date);
      });

      it('a user without account_id is kept with accountId null', async () => {
        const id = uid('noacct');
        const user = await store.saveLogin(login(id, { accountId: null, displayName: null }));
        expect(user.accountId).toBeNull();
        expect(user.displayName).toBeNull();
      });

      it('saveLogin again updates profile, authorization and credentials, keeping createdAt', async () => {
        const id = uid('user');
        const first = await store.saveLogin(login(id));
        const second = await store.saveLogin(
          login(id, {
            displayName: 'Renamed',
            authorizedAt: at(MINUTE),
            refreshToken: { keyId: 'k2', ciphertext: 'new-cipher' },
            scope: 'a b',
          }),
        );
        expect(second.displayName).toBe('Renamed');
        expect(second.authorizedAt.toISOString()).toBe(at(MINUTE).toISOString());
        expect(second.createdAt.toISOString()).toBe(first.createdAt.toISOString());
        expect(await store.getCredentials(id)).toMatchObject({
          refreshToken: { keyId: 'k2', ciphertext: 'new-cipher' },
          scope: 'a b',
        });
      });

      it('a login makes needs_reauth active again and clears the reason', async () => {
        const id = uid('reauth');
        await store.saveLogin(login(id));
        const marked = await store.setUserStatus(id, 'needs_reauth', 'invalid_grant: Refresh token revoked');
        expect(marked).toMatchObject({ status: 'needs_reauth', statusReason: 'invalid_grant: Refresh token revoked' });
        const again = await store.saveLogin(login(id));
        expect(again).toMatchObject({ status: 'active', statusReason: null });
      });

      it("a login keeps an operator's pause", async () => {
        const id = uid('paused');
        await store.saveLogin(login(id));
        await store.setUserStatus(id, 'paused', 'operator: on holiday');
        const again = await store.saveLogin(login(id));
        expect(again).toMatchObject({ status: 'paused', statusReason: 'operator: on holiday' });
        const active = await store.setUserStatus(id, 'active', null);
        expect(active).toMatchObject({ status: 'active', statusReason: null });
      });

      it('unknown users: getUser, getCredentials, setUserStatus answer null', async () => {
        const id = uid('ghost');
        expect(await store.getUser(id)).toBeNull();
        expect(await store.getCredentials(id)).toBeNull();
        expect(await store.setUserStatus(id, 'paused', 'x')).toBeNull();
      });

      it('listUsers lists everyone or filters by status', async () => {
        const a = uid('la');
        const b = uid('lb');
        await store.saveLogin(login(a));
        await store.saveLogin(login(b));
        await store.setUserStatus(b, 'needs_reauth', 'revoked');
        const all = (await store.listUsers()).map((u) => u.userId);
        expect(all).toEqual(expect.arrayContaining([a, b]));
        const reauth = await store.listUsers({ status: 'needs_reauth' });
        expect(reauth.map((u) => u.userId)).toContain(b);
        expect(reauth.map((u) => u.userId)).not.toContain(a);
        expect(reauth.every((u) => u.status === 'needs_reauth')).toBe(true);
      });

      it('updateRefreshToken replaces the stored token (rotation) and keeps the scope', async () => {
        const id = uid('rotate');
        await store.saveLogin(login(id));
        await store.updateRefreshToken(id, { keyId: 'k9', ciphertext: 'rotated' });
        expect(await store.getCredentials(id)).toMatchObject({
          refreshToken: { keyId: 'k9', ciphertext: 'rotated' },
          scope: 'user-read-recently-played',
        });
      });

      it('listUsersAuthorizedBefore lists older authorizations, oldest first', async () => {
        const old1 = uid('old1');
        const old2 = uid('old2');
        const fresh = uid('fresh');
        await store.saveLogin(login(old2, { authorizedAt: new Date('2001-02-01T00:00:00.000Z') }));
        await store.saveLogin(login(old1, { authorizedAt: new Date('2001-01-01T00:00:00.000Z') }));
        await store.saveLogin(login(fresh, { authorizedAt: new Date('2001-06-01T00:00:00.000Z') }));
        const listed = await store.listUsersAuthorizedBefore(new Date('2001-03-01T00:00:00.000Z'));
        expect(listed.map((u) => u.userId)).toEqual([old1, old2]);
      });

      it('deleteUser without purge removes the user and credentials but keeps the history', async () => {
        const id = uid('del');
        await store.saveLogin(login(id));
        const { id: ex } = await extract(id, run('del', at(0), 3), { fetchedAt: at(10 * MINUTE) });
        await store.recordDeadLetter(deadLetterJob(id, ex));
        expect(await store.deleteUser(id, { purgePlays: false })).toBe(true);
        expect(await store.getUser(id)).toBeNull();
        expect(await store.getCredentials(id)).toBeNull();
        expect(await store.countPlays(id)).toBe(3);
        expect(await store.getExtraction(ex)).not.toBeNull();
        expect((await store.listDeadLetters({ userId: id }, { limit: 10 })).items).toHaveLength(1);
        expect(await store.deleteUser(id, { purgePlays: false })).toBe(false);
      });

      it('deleteUser with purge removes plays, extractions, gaps and dead letters too', async () => {
        const id = uid('purge');
        await store.saveLogin(login(id));
        await extract(id, run('pa', at(0), 3), { fetchedAt: at(10 * MINUTE) });
        const { id: ex } = await extract(id, run('pb', at(60 * MINUTE), 3), { fetchedAt: at(70 * MINUTE), full: true });
        expect((await store.listGaps({ userId: id, limit: 10 })).items).toHaveLength(1);
        await store.recordDeadLetter(deadLetterJob(id, ex));
        expect(await store.deleteUser(id, { purgePlays: true })).toBe(true);
        expect(await store.getUser(id)).toBeNull();
        expect(await store.countPlays(id)).toBe(0);
        expect(await store.getExtraction(ex)).toBeNull();
        expect((await store.listGaps({ userId: id, limit: 10 })).items).toHaveLength(0);
        expect((await store.listDeadLetters({ userId: id }, { limit: 10 })).items).toHaveLength(0);
      });

      it('deleteUser of an unknown user answers false', async () => {
        expect(await store.deleteUser(uid('ghost'), { purgePlays: true })).toBe(false);
      });
    });

    describe('extractions', () => {
      it('startExtraction creates a pending record; starting the same id again returns it unchanged', async () => {
        const userId = uid('ex');
        const id = uid('ex');
        const created = await store.startExtraction({ id, userId, trigger: 'manual', requestedAt: at(0) });
        expect(created).toEqual<Extraction>({
          id,
          userId,
          trigger: 'manual',
          state: 'pending',
          reason: null,
          requestedAt: at(0),
          fetchedAt: null,
          finishedAt: null,
          fetched: null,
          newPlays: null,
          knownPlays: null,
          deadLettered: null,
          pageFull: null,
          oldestPlayedAt: null,
          newestPlayedAt: null,
          gapId: null,
        });
        await store.setExtractionState(id, 'validating');
        const again = await store.startExtraction({ id, userId, trigger: 'scheduled', requestedAt: at(MINUTE) });
        expect(again).toMatchObject({ id, trigger: 'manual', state: 'validating', requestedAt: at(0) });
        expect(await store.getExtraction(id)).toEqual(again);
        expect(await store.getExtraction(uid('none'))).toBeNull();
      });

      it('markExtractionFetched records the page; states only move forward', async () => {
        const userId = uid('ex');
        const id = uid('ex');
        await store.startExtraction({ id, userId, trigger: 'scheduled', requestedAt: at(0) });
        await store.markExtractionFetched(id, {
          fetchedAt: at(1000),
          fetched: 50,
          full: true,
          oldestPlayedAt: at(-60 * MINUTE),
          newestPlayedAt: at(-MINUTE),
        });
        expect(await store.getExtraction(id)).toMatchObject({
          state: 'validating',
          fetchedAt: at(1000),
          fetched: 50,
          pageFull: true,
          oldestPlayedAt: at(-60 * MINUTE),
          newestPlayedAt: at(-MINUTE),
        });
        await store.setExtractionState(id, 'loading');
        expect((await store.getExtraction(id))?.state).toBe('loading');
        await store.setExtractionState(id, 'validating'); // a redelivered validation job
        expect((await store.getExtraction(id))?.state).toBe('loading');
      });

      it('finishExtraction sets a final state with its reason; a final record is not changed again', async () => {
        const userId = uid('ex');
        const failed = uid('ex');
        const none = uid('ex');
        await store.startExtraction({ id: failed, userId, trigger: 'scheduled', requestedAt: at(0) });
        await store.startExtraction({ id: none, userId, trigger: 'scheduled', requestedAt: at(MINUTE) });
        await store.finishExtraction(failed, 'failed', 'spotify said 500 eight times');
        await store.finishExtraction(none, 'no_new_plays', null);
        const f = await store.getExtraction(failed);
        expect(f).toMatchObject({ state: 'failed', reason: 'spotify said 500 eight times' });
        expect(f?.finishedAt).toBeInstanceOf(Date);
        expect(await store.getExtraction(none)).toMatchObject({ state: 'no_new_plays', reason: null });
        await store.finishExtraction(none, 'failed', 'late');
        await store.setExtractionState(none, 'loading');
        expect(await store.getExtraction(none)).toMatchObject({ state: 'no_new_plays', reason: null });
        await expect(store.finishExtraction(uid('none'), 'failed', 'x')).resolves.toBeUndefined();
      });

      it('findPendingExtraction returns a not-final record of the user, null when all are final', async () => {
        const userId = uid('ex');
        expect(await store.findPendingExtraction(userId)).toBeNull();
        const id = uid('ex');
        await store.startExtraction({ id, userId, trigger: 'manual', requestedAt: at(0) });
        expect((await store.findPendingExtraction(userId))?.id).toBe(id);
        await store.finishExtraction(id, 'no_new_plays', null);
        expect(await store.findPendingExtraction(userId)).toBeNull();
      });

      it('listExtractions: newest requested first, filtered by user and state, paged by cursor', async () => {
        const userId = uid('list');
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const id = `${userId}-e${i}`;
          ids.push(id);
          await store.startExtraction({ id, userId, trigger: 'scheduled', requestedAt: at(i * MINUTE) });
        }
        await store.finishExtraction(ids[1] as string, 'no_new_plays', null);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listExtractions({ userId, limit: 2, cursor });
          seen.push(...page.items.map((e) => e.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual([...ids].reverse());
        expect(pages).toBe(3);
        const finished = await store.listExtractions({ userId, state: 'no_new_plays', limit: 10 });
        expect(finished.items.map((e) => e.id)).toEqual([ids[1]]);
        expect(finished.nextCursor).toBeNull();
      });

      it('failStaleExtractions fails what is still open after the bound and says how many', async () => {
        const userId = uid('stale');
        const old1 = uid('old');
        const old2 = uid('old');
        const doneOld = uid('old');
        const recent = uid('new');
        await store.startExtraction({
          id: old1,
          userId,
          trigger: 'scheduled',
          requestedAt: new Date('1999-01-01T00:00:00Z'),
        });
        await store.startExtraction({
          id: old2,
          userId,
          trigger: 'manual',
          requestedAt: new Date('1999-01-02T00:00:00Z'),
        });
        await store.setExtractionState(old2, 'loading');
        await store.startExtraction({
          id: doneOld,
          userId,
          trigger: 'manual',
          requestedAt: new Date('1999-01-01T00:00:00Z'),
        });
        await store.finishExtraction(doneOld, 'no_new_plays', null);
        await store.startExtraction({
          id: recent,
          userId,
          trigger: 'manual',
          requestedAt: new Date('2000-06-01T00:00:00Z'),
        });
        expect(await store.failStaleExtractions(new Date('2000-01-01T00:00:00Z'))).toBe(2);
        expect(await store.getExtraction(old1)).toMatchObject({ state: 'failed' });
        expect((await store.getExtraction(old2))?.reason).toEqual(expect.any(String));
        expect((await store.getExtraction(doneOld))?.state).toBe('no_new_plays');
        expect((await store.getExtraction(recent))?.state).toBe('pending');
        expect(await store.failStaleExtractions(new Date('2000-01-01T00:00:00Z'))).toBe(0);
        await store.finishExtraction(recent, 'no_new_plays', null);
      });
    });

    describe('plays: loadBatch', () => {
      it('stores plays with their track, album, all artists in order and context, and completes the extraction', async () => {
        const userId = uid('load');
        const plays = [play('ld1', at(0)), play('ld2', at(3 * MINUTE), false)];
        const { id } = await extract(userId, [], { fetchedAt: at(-MINUTE), load: false });
        const job = loadJob(userId, id, plays, { fetchedAt: at(10 * MINUTE) });
        job.page.deadLettered = 2;
        job.page.fetched = 4;
        const result = await store.loadBatch(job);
        expect(result).toEqual({ newPlays: 2, knownPlays: 0, gap: null });
        const stored = await collect(store.streamPlays(userId, {}));
        expect(
          stored.map(({ userId: u, extractionId, loadedAt: _loadedAt, ...p }) => ({ u, extractionId, p })),
        ).toEqual(plays.map((p) => ({ u: userId, extractionId: id, p })));
        expect(stored.every((p) => p.loadedAt instanceof Date)).toBe(true);
        const ex = await store.getExtraction(id);
        expect(ex).toMatchObject({
          state: 'done',
          newPlays: 2,
          knownPlays: 0,
          fetched: 4,
          deadLettered: 2,
          pageFull: false,
          oldestPlayedAt: at(0),
          newestPlayedAt: at(3 * MINUTE),
          gapId: null,
        });
        expect(ex?.finishedAt).toBeInstanceOf(Date);
      });

      it('a local file (no id, no album URI, artists without URI) round-trips', async () => {
        const userId = uid('local');
        const local: NormalizedPlay = {
          playedAt: at(0).toISOString(),
          context: null,
          track: {
            uri: 'spotify:local:Some+Artist:Some+Album:A+Song:215',
            id: null,
            name: 'A Song',
            durationMs: 215_000,
            explicit: false,
            isrc: null,
            isLocal: true,
            discNumber: 0,
            trackNumber: 0,
            album: { uri: null, id: null, name: 'Some Album', albumType: null, releaseDate: null, artists: [] },
            artists: [{ uri: null, id: null, name: 'Some Artist' }],
          },
        };
        const noAlbum: NormalizedPlay = {
          ...local,
          playedAt: at(5 * MINUTE).toISOString(),
          track: {
            ...local.track,
            uri: 'spotify:local:::B:100',
            name: 'B',
            album: null,
            discNumber: null,
            trackNumber: null,
          },
        };
        await extract(userId, [local, noAlbum], { fetchedAt: at(10 * MINUTE) });
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored.map((p) => ({ playedAt: p.playedAt, track: p.track, context: p.context }))).toEqual([
          local,
          noAlbum,
        ]);
      });

      it('the same batch delivered three times loads its plays once and keeps the first counts', async () => {
        const userId = uid('idem');
        const plays = run('idem', at(0), 4);
        const { id, job } = await extract(userId, plays, { fetchedAt: at(20 * MINUTE), load: false });
        expect(await store.loadBatch(job)).toEqual({ newPlays: 4, knownPlays: 0, gap: null });
        expect(await store.loadBatch(job)).toMatchObject({ newPlays: 0, knownPlays: 4 });
        expect(await store.loadBatch(job)).toMatchObject({ newPlays: 0, knownPlays: 4 });
        expect(await store.countPlays(userId)).toBe(4);
        expect(await store.getExtraction(id)).toMatchObject({ state: 'done', newPlays: 4, knownPlays: 0 });
      });

      it('a batch whose extraction has no record creates the record (replays, benchmarks)', async () => {
        const userId = uid('norec');
        const id = uid('replay');
        const result = await store.loadBatch(loadJob(userId, id, run('nr', at(0), 2), { fetchedAt: at(9 * MINUTE) }));
        expect(result.newPlays).toBe(2);
        expect(await store.getExtraction(id)).toMatchObject({
          id,
          userId,
          state: 'done',
          newPlays: 2,
          knownPlays: 0,
          fetchedAt: at(9 * MINUTE),
        });
      });

      it('an empty batch completes its extraction with zero plays', async () => {
        const userId = uid('empty');
        const { id, job } = await extract(userId, [], { fetchedAt: at(0), load: false });
        expect(await store.loadBatch(job)).toEqual({ newPlays: 0, knownPlays: 0, gap: null });
        expect(await store.getExtraction(id)).toMatchObject({ state: 'done', newPlays: 0, knownPlays: 0, fetched: 0 });
      });

      it('a later batch counts plays already stored as known', async () => {
        const userId = uid('known');
        const plays = run('kn', at(0), 4);
        await extract(userId, plays.slice(0, 3), { fetchedAt: at(10 * MINUTE) });
        const { id } = await extract(userId, plays, { fetchedAt: at(20 * MINUTE) });
        expect(await store.getExtraction(id)).toMatchObject({ newPlays: 1, knownPlays: 3 });
        expect(await store.countPlays(userId)).toBe(4);
      });

      it('exact duplicates in one batch are one play', async () => {
        const userId = uid('dup');
        const p = play('dup', at(0));
        const { id } = await extract(userId, [p, p, p], { fetchedAt: at(MINUTE) });
        expect(await store.countPlays(userId)).toBe(1);
        expect(await store.getExtraction(id)).toMatchObject({ newPlays: 1, knownPlays: 2 });
      });

      it('the same track twice within 2 s in one batch is one play (the earlier kept); 3 s apart is two', async () => {
        const userId = uid('win');
        await extract(
          userId,
          [
            play('w1', '2026-03-01T08:00:00.120Z'),
            play('w1', '2026-03-01T08:00:00.450Z'),
            play('w2', '2026-03-01T09:00:00.000Z'),
            play('w2', '2026-03-01T09:00:03.000Z'),
          ],
          { fetchedAt: at(3 * 60 * MINUTE) },
        );
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored.map((p) => [p.track.uri, p.playedAt])).toEqual([
          ['spotify:track:trw1', '2026-03-01T08:00:00.120Z'],
          ['spotify:track:trw2', '2026-03-01T09:00:00.000Z'],
          ['spotify:track:trw2', '2026-03-01T09:00:03.000Z'],
        ]);
      });

      it('a stored whole-second play and a later millisecond play of the same track are one play', async () => {
        const userId = uid('export');
        await extract(userId, [play('ex1', '2026-05-06T23:45:36.000Z')], { fetchedAt: at(0) });
        const { id } = await extract(userId, [play('ex1', '2026-05-06T23:45:36.176Z')], { fetchedAt: at(MINUTE) });
        expect(await store.getExtraction(id)).toMatchObject({ newPlays: 0, knownPlays: 1 });
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored.map((p) => p.playedAt)).toEqual(['2026-05-06T23:45:36.000Z']);
        // and the other way round: a millisecond play first, a whole-second one (before it) later
        await extract(userId, [play('ex2', '2026-05-07T10:00:01.900Z')], { fetchedAt: at(2 * MINUTE) });
        await extract(userId, [play('ex2', '2026-05-07T10:00:00.000Z')], { fetchedAt: at(3 * MINUTE) });
        expect(await store.countPlays(userId)).toBe(2);
      });

      it('two different tracks at one instant are two plays', async () => {
        const userId = uid('instant');
        const same = '2026-05-06T23:45:36.176Z';
        const { id } = await extract(userId, [play('i1', same), play('i2', same)], { fetchedAt: at(0) });
        expect(await store.getExtraction(id)).toMatchObject({ newPlays: 2, knownPlays: 0 });
        expect(await store.countPlays(userId)).toBe(2);
        // and the same plays for another user are that user's plays
        const other = uid('instant');
        await extract(other, [play('i1', same)], { fetchedAt: at(0) });
        expect(await store.countPlays(other)).toBe(1);
      });

      it('two loads of overlapping batches for one user at once store each play once', async () => {
        const userId = uid('race');
        const plays = run('race', at(0), 30);
        const a = loadJob(userId, uid('ra'), plays.slice(0, 20), { fetchedAt: at(200 * MINUTE) });
        const b = loadJob(userId, uid('rb'), plays.slice(10), { fetchedAt: at(201 * MINUTE) });
        const [ra, rb] = await Promise.all([store.loadBatch(a), store.loadBatch(b)]);
        expect(ra.newPlays + rb.newPlays).toBe(30);
        expect(ra.knownPlays + rb.knownPlays).toBe(10);
        expect(await store.countPlays(userId)).toBe(30);
      });

      it('two loads at once of one play reported 0.5 s apart store it once', async () => {
        const userId = uid('race2');
        for (let i = 0; i < 5; i++) {
          const t0 = at(i * 10 * MINUTE);
          const a = loadJob(userId, uid('ra'), [play(`r2x${i}`, t0)], { fetchedAt: at(300 * MINUTE) });
          const b = loadJob(userId, uid('rb'), [play(`r2x${i}`, new Date(t0.getTime() + 500))], {
            fetchedAt: at(301 * MINUTE),
          });
          const [ra, rb] = await Promise.all([store.loadBatch(a), store.loadBatch(b)]);
          expect(ra.newPlays + rb.newPlays).toBe(1);
        }
        expect(await store.countPlays(userId)).toBe(5);
      });

      it('shared tracks loaded for many users at once do not fail', async () => {
        const plays = run('shared', at(0), 20);
        const users = Array.from({ length: 4 }, () => uid('many'));
        const results = await Promise.all(
          users.map((u) =>
            store.loadBatch(loadJob(u, uid('m'), [...plays].reverse(), { fetchedAt: at(100 * MINUTE) })),
          ),
        );
        expect(results.map((r) => r.newPlays)).toEqual([20, 20, 20, 20]);
      });
    });

    describe('the catalog', () => {
      it('a later batch with a track renamed, an artist fewer and its album renamed updates every play of it', async () => {
        const userId = uid('catalog');
        const first = play('cat1', at(0));
        await extract(userId, [first], { fetchedAt: at(MINUTE) });
        const changed = play('cat1', at(10 * MINUTE));
        const album = changed.track.album;
        if (!album) throw new Error('the test track has an album');
        changed.track = {
          ...changed.track,
          name: 'Song cat1 (Remastered)',
          artists: changed.track.artists.slice(0, 1),
          album: { ...album, name: 'Album cat1 (Deluxe)' },
        };
        await extract(userId, [changed], { fetchedAt: at(11 * MINUTE) });
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored.map((p) => p.track)).toEqual([changed.track, changed.track]);
      });

      it('a batch that fails stores nothing of its catalog: the same tracks loaded next are stored whole', async () => {
        const userId = uid('catalog-fail');
        const good = play('catf1', at(0));
        const bad = play('catf2', at(3 * MINUTE));
        bad.track = { ...bad.track, durationMs: 3_000_000_000 }; // beyond the integer column: the statement fails
        await expect(store.loadBatch(loadJob(userId, uid('ex'), [good, bad]))).rejects.toThrow();
        expect(await store.countPlays(userId)).toBe(0);
        await store.loadBatch(loadJob(userId, uid('ex'), [good]));
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored.map((p) => p.track)).toEqual([good.track]);
      });
    });

    describe('plays: reads', () => {
      it('countUnknownPlays applies the 2 s rule against stored plays and inside the list', async () => {
        const userId = uid('unknown');
        await extract(userId, [play('u1', '2026-03-01T08:00:00.000Z'), play('u2', '2026-03-01T08:03:00.000Z')], {
          fetchedAt: at(MINUTE),
        });
        const key = (t: string, iso: string) => ({ trackUri: `spotify:track:tr${t}`, playedAt: new Date(iso) });
        expect(await store.countUnknownPlays(userId, [])).toBe(0);
        expect(
          await store.countUnknownPlays(userId, [
            key('u1', '2026-03-01T08:00:00.000Z'), // stored
            key('u1', '2026-03-01T08:00:01.600Z'), // within 2 s of the stored one
            key('u2', '2026-03-01T08:02:58.500Z'), // within 2 s of the stored one, before it
          ]),
        ).toBe(0);
        expect(
          await store.countUnknownPlays(userId, [
            key('u1', '2026-03-01T08:00:03.000Z'), // 3 s later: another play
            key('u3', '2026-03-01T08:00:00.000Z'), // another track at a stored instant
            key('u4', '2026-03-01T09:00:00.000Z'),
            key('u4', '2026-03-01T09:00:00.300Z'), // the same play twice
          ]),
        ).toBe(3);
        expect(await store.countUnknownPlays(uid('nobody'), [key('u1', '2026-03-01T08:00:00.000Z')])).toBe(1);
      });

      it('newestPlayedAt and countPlays', async () => {
        const userId = uid('newest');
        expect(await store.newestPlayedAt(userId)).toBeNull();
        expect(await store.countPlays(userId)).toBe(0);
        await extract(userId, run('nw', at(0), 3), { fetchedAt: at(60 * MINUTE) });
        expect(await store.newestPlayedAt(userId)).toEqual(at(6 * MINUTE));
        expect(await store.countPlays(userId)).toBe(3);
      });

      it('listPlays: newest first, from inclusive and to exclusive, paged by an opaque cursor', async () => {
        const userId = uid('page');
        const same = at(30 * MINUTE).toISOString();
        const plays = [...run('pg', at(0), 7), play('pgx', same)]; // 0, 3, .., 18 min, then 30 min
        await extract(userId, plays, { fetchedAt: at(60 * MINUTE) });
        const all: StoredPlay[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listPlays(userId, { limit: 3, cursor });
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor && pages < 10);
        expect(pages).toBe(3);
        const expected = [...plays].sort((a, b) => b.playedAt.localeCompare(a.playedAt)).map((p) => p.playedAt);
        expect(all.map((p) => p.playedAt)).toEqual(expected);
        expect(all[0]).toMatchObject({ userId, track: plays[7]?.track });
        const ranged = await store.listPlays(userId, { from: at(3 * MINUTE), to: at(9 * MINUTE), limit: 10 });
        expect(ranged.items.map((p) => p.playedAt)).toEqual([
          at(6 * MINUTE).toISOString(),
          at(3 * MINUTE).toISOString(),
        ]);
        expect(ranged.nextCursor).toBeNull();
        await expect(store.listPlays(userId, { limit: 3, cursor: 'not-a-cursor' })).rejects.toThrow();
      });

      it('listPlays pages through two tracks at one instant without losing one', async () => {
        const userId = uid('pgsame');
        const same = at(0);
        await extract(userId, [play('s1', same), play('s2', same), play('s3', same)], { fetchedAt: at(MINUTE) });
        const first = await store.listPlays(userId, { limit: 2 });
        const second = await store.listPlays(userId, { limit: 2, cursor: first.nextCursor ?? undefined });
        expect([...first.items, ...second.items].map((p) => p.track.uri).sort()).toEqual([
          'spotify:track:trs1',
          'spotify:track:trs2',
          'spotify:track:trs3',
        ]);
        expect(second.nextCursor).toBeNull();
      });

      it('streamPlays yields every play oldest first, across many fetches, within the range', async () => {
        const userId = uid('stream');
        const plays = Array.from({ length: 2_345 }, (_, i) => play(`st${i % 40}`, at(i * 5_000)));
        await extract(userId, plays, { fetchedAt: at(1_000 * MINUTE) });
        const stored = await collect(store.streamPlays(userId, {}));
        expect(stored).toHaveLength(2_345);
        expect(stored.map((p) => p.playedAt)).toEqual(plays.map((p) => p.playedAt));
        const ranged = await collect(store.streamPlays(userId, { from: at(10_000), to: at(25_000) }));
        expect(ranged.map((p) => p.playedAt)).toEqual([at(10_000), at(15_000), at(20_000)].map((d) => d.toISOString()));
        // leaving early releases the stream (the store keeps working)
        for await (const p of store.streamPlays(userId, {})) {
          expect(p.userId).toBe(userId);
          break;
        }
        expect(await store.countPlays(userId)).toBe(2_345);
      });
    });

    describe('the my_played_tracks view', () => {
      it("shows the original ETL's columns: primary_key with milliseconds (#2 for a second track at one instant), song_name, first artist, UTC date", async (ctx) => {
        if (!sut.readPlayedTracksView) {
          console.warn(`[${adapterName}] the my_played_tracks view was NOT checked: the adapter gave no view reader`);
          ctx.skip();
          return;
        }
        const userId = uid('view');
        const same = '2026-06-05T23:45:36.176Z';
        await extract(
          userId,
          [
            play('vb', same),
            play('va', same),
            play('vc', '2026-06-06T00:10:00.000Z'),
            play('vd', '2026-06-06T00:20:00Z'),
          ],
          { fetchedAt: at(0) },
        );
        const rows = await sut.readPlayedTracksView(userId);
        expect(rows.map((r) => ({ ...r }))).toEqual([
          {
            primary_key: '2026-06-05T23:45:36.176Z',
            song_name: 'Song va',
            artist_name: 'Artist va/0',
            timestamp: '2026-06-05',
          },
          {
            primary_key: '2026-06-05T23:45:36.176Z#2',
            song_name: 'Song vb',
            artist_name: 'Artist vb/0',
            timestamp: '2026-06-05',
          },
          {
            primary_key: '2026-06-06T00:10:00.000Z',
            song_name: 'Song vc',
            artist_name: 'Artist vc/0',
            timestamp: '2026-06-06',
          },
          {
            primary_key: '2026-06-06T00:20:00.000Z',
            song_name: 'Song vd',
            artist_name: 'Artist vd/0',
            timestamp: '2026-06-06',
          },
        ]);
      });
    });

    describe('gaps', () => {
      it("a user's first page is never a gap, even when full", async () => {
        const userId = uid('gap0');
        const { id } = await extract(userId, run('g0', at(0), 5), { fetchedAt: at(60 * MINUTE), full: true });
        expect((await store.getExtraction(id))?.gapId).toBeNull();
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
      });

      it('a full page whose oldest play is after the newest stored play records a gap with its range', async () => {
        const userId = uid('gap1');
        await extract(userId, run('g1a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true }); // newest at 12 min
        const id = uid('ex');
        await store.startExtraction({ id, userId, trigger: 'scheduled', requestedAt: at(5 * 60 * MINUTE) });
        const job = loadJob(userId, id, run('g1b', at(4 * 60 * MINUTE), 5), {
          fetchedAt: at(5 * 60 * MINUTE),
          full: true,
        });
        const result = await store.loadBatch(job);
        expect(result.gap).toMatchObject({ userId, extractionId: id, from: at(12 * MINUTE), to: at(4 * 60 * MINUTE) });
        expect(result.gap?.detectedAt).toBeInstanceOf(Date);
        const gaps = await store.listGaps({ userId, limit: 10 });
        expect(gaps.items).toEqual([result.gap]);
        expect((await store.getExtraction(id))?.gapId).toBe(result.gap?.id);
        // delivered again: no second gap
        await store.loadBatch(job);
        expect((await store.listGaps({ userId, limit: 10 })).items).toHaveLength(1);
      });

      it('a full page that reaches the stored plays, or a page that is not full, is no gap', async () => {
        const userId = uid('gap2');
        await extract(userId, run('g2a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true }); // 0..12 min
        // overlaps: oldest (12 min) is not after the newest stored (12 min)
        await extract(userId, run('g2b', at(12 * MINUTE), 5), { fetchedAt: at(40 * MINUTE), full: true });
        // not full: the page shows everything since before
        await extract(userId, run('g2c', at(10 * 60 * MINUTE), 3), { fetchedAt: at(11 * 60 * MINUTE), full: false });
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
      });

      it('two extractions loaded out of order make no gap', async () => {
        const userId = uid('gap3');
        await extract(userId, run('g3a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true }); // 0..12 min
        const e2 = await extract(userId, run('g3b', at(12 * MINUTE), 5), {
          fetchedAt: at(40 * MINUTE),
          full: true,
          load: false,
        }); // 12..24
        const e3 = await extract(userId, run('g3c', at(24 * MINUTE), 5), {
          fetchedAt: at(60 * MINUTE),
          full: true,
          load: false,
        }); // 24..36: after 12 min, a gap if e2 were forgotten
        expect((await store.loadBatch(e3.job)).gap).toBeNull();
        expect((await store.loadBatch(e2.job)).gap).toBeNull();
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
        expect(await store.countPlays(userId)).toBe(15);
      });

      it('an earlier extraction that failed (its batch lost) does not hide the gap', async () => {
        const userId = uid('gap4');
        await extract(userId, run('g4a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true }); // newest 12 min
        const lost = await extract(userId, run('g4b', at(60 * MINUTE), 5), {
          fetchedAt: at(80 * MINUTE),
          full: true,
          load: false,
        });
        const later = await extract(userId, run('g4c', at(3 * 60 * MINUTE), 5), {
          fetchedAt: at(4 * 60 * MINUTE),
          full: true,
          load: false,
        });
        // loaded while the lost one is still in flight: deferred
        expect((await store.loadBatch(later.job)).gap).toBeNull();
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
        await store.finishExtraction(lost.id, 'failed', 'load-failed: attempts exhausted');
        const gaps = (await store.listGaps({ userId, limit: 10 })).items;
        expect(gaps).toHaveLength(1);
        expect(gaps[0]).toMatchObject({ extractionId: later.id, from: at(12 * MINUTE), to: at(3 * 60 * MINUTE) });
        expect((await store.getExtraction(later.id))?.gapId).toBe(gaps[0]?.id);
      });

      it('a lost extraction failed by failStaleExtractions releases the deferred evaluation', async () => {
        const userId = uid('gap5');
        const t = (m: number) => new Date(Date.parse('1998-01-01T00:00:00.000Z') + m * MINUTE);
        await extract(userId, run('g5a', t(0), 5), { fetchedAt: t(20), full: true });
        const lost = uid('lost');
        await store.startExtraction({ id: lost, userId, trigger: 'scheduled', requestedAt: t(30) });
        const later = await extract(userId, run('g5c', t(300), 5), { fetchedAt: t(400), full: true });
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
        expect(await store.failStaleExtractions(t(60))).toBe(1);
        const gaps = (await store.listGaps({ userId, limit: 10 })).items;
        expect(gaps).toHaveLength(1);
        expect(gaps[0]).toMatchObject({ extractionId: later.id, from: t(12), to: t(300) });
      });

      it('a failed extraction whose batch loads after all becomes done with its counts and is evaluated again', async () => {
        const userId = uid('gap7');
        await extract(userId, run('g7a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true }); // newest 12 min
        const late = await extract(userId, run('g7b', at(12 * MINUTE), 5), {
          fetchedAt: at(40 * MINUTE),
          full: true,
          load: false,
        });
        await store.finishExtraction(late.id, 'failed', 'load-failed: attempts exhausted');
        expect((await store.loadBatch(late.job)).newPlays).toBe(5);
        expect(await store.getExtraction(late.id)).toMatchObject({ state: 'done', reason: null, newPlays: 5 });
        // a later page reaching the late batch's plays is no gap: the late batch counts as loaded
        await extract(userId, run('g7c', at(24 * MINUTE), 5), { fetchedAt: at(60 * MINUTE), full: true });
        expect((await store.listGaps({ userId, limit: 10 })).items).toEqual([]);
      });

      it('an extraction with no new plays in between is skipped, not a blocker', async () => {
        const userId = uid('gap6');
        await extract(userId, run('g6a', at(0), 5), { fetchedAt: at(20 * MINUTE), full: true });
        const none = uid('none');
        await store.startExtraction({ id: none, userId, trigger: 'scheduled', requestedAt: at(30 * MINUTE) });
        await store.finishExtraction(none, 'no_new_plays', null);
        const { id } = await extract(userId, run('g6b', at(2 * 60 * MINUTE), 5), {
          fetchedAt: at(3 * 60 * MINUTE),
          full: true,
        });
        const gaps = (await store.listGaps({ userId, limit: 10 })).items;
        expect(gaps.map((g) => g.extractionId)).toEqual([id]);
      });

      it('listGaps: newest first, filtered by user, paged by cursor', async () => {
        const userId = uid('gapl');
        await extract(userId, run('gla', at(0), 2), { fetchedAt: at(10 * MINUTE), full: true });
        const ids: string[] = [];
        for (let i = 1; i <= 3; i++) {
          const { id } = await extract(userId, run(`gl${i}`, at(i * 100 * MINUTE), 2), {
            fetchedAt: at(i * 100 * MINUTE + 10 * MINUTE),
            full: true,
          });
          ids.push(id);
        }
        const first = await store.listGaps({ userId, limit: 2 });
        expect(first.items.map((g) => g.extractionId)).toEqual([ids[2], ids[1]]);
        const second = await store.listGaps({ userId, limit: 2, cursor: first.nextCursor ?? undefined });
        expect(second.items.map((g) => g.extractionId)).toEqual([ids[0]]);
        expect(second.nextCursor).toBeNull();
        const everyone = await store.listGaps({ limit: 1000 });
        expect(everyone.items.map((g) => g.extractionId)).toEqual(expect.arrayContaining(ids));
      });
    });

    describe('dead letters', () => {
      it('keeps a rejected record; the same record for the same rule seen again counts, a redelivery does not', async () => {
        const userId = uid('dl');
        const job = deadLetterJob(userId, 'ex-1', { rejectedAt: at(0).toISOString() });
        const first = await store.recordDeadLetter(job);
        expect(first).toMatchObject({
          userId,
          extractionId: 'ex-1',
          stage: 'validator',
          rule: 'required',
          field: '/track/uri',
          message: 'the track has no URI',
          record: job.record,
          timesSeen: 1,
          firstSeenAt: at(0),
          lastSeenAt: at(0),
          correction: null,
          status: 'open',
          replayedAt: null,
        });
        expect(typeof first.id).toBe('string');
        const redelivered = await store.recordDeadLetter(job);
        expect(redelivered).toMatchObject({ id: first.id, timesSeen: 1 });
        // the same record, keys in another order, seen by the next extraction
        const record = { track: { uri: null, name: 'x' }, played_at: '2026-03-01T08:00:00.000Z' };
        const again = await store.recordDeadLetter(
          deadLetterJob(userId, 'ex-2', { record, rejectedAt: at(10 * MINUTE).toISOString() }),
        );
        expect(again).toMatchObject({
          id: first.id,
          timesSeen: 2,
          extractionId: 'ex-2',
          firstSeenAt: at(0),
          lastSeenAt: at(10 * MINUTE),
        });
        expect(await store.getDeadLetter(first.id)).toEqual(again);
      });

      it('another rule, stage, user or record is another entry', async () => {
        const userId = uid('dl');
        const a = await store.recordDeadLetter(deadLetterJob(userId, 'e'));
        const b = await store.recordDeadLetter(deadLetterJob(userId, 'e', { rule: 'future-played-at' }));
        const c = await store.recordDeadLetter(deadLetterJob(userId, 'e', { stage: 'loader', rule: 'required' }));
        const d = await store.recordDeadLetter(deadLetterJob(uid('dl'), 'e'));
        const e = await store.recordDeadLetter(deadLetterJob(userId, 'e', { record: { other: true } }));
        expect(new Set([a.id, b.id, c.id, d.id, e.id]).size).toBe(5);
      });

      it('listDeadLetters filters by stage, rule, user, status and time, newest first, paged by cursor', async () => {
        const userId = uid('dlf');
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const dl = await store.recordDeadLetter(
            deadLetterJob(userId, `e${i}`, {
              record: { n: i },
              rule: i % 2 === 0 ? 'required' : 'not-a-track',
              stage: i === 4 ? 'loader' : 'validator',
              rejectedAt: at(i * MINUTE).toISOString(),
            }),
          );
          ids.push(dl.id);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listDeadLetters({ userId }, { limit: 2, cursor });
          seen.push(...page.items.map((d) => d.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual([...ids].reverse());
        const list = async (f: Parameters<Store['listDeadLetters']>[0]) =>
          (await store.listDeadLetters({ userId, ...f }, { limit: 50 })).items.map((d) => d.id);
        expect(await list({ rule: 'not-a-track' })).toEqual([ids[3], ids[1]]);
        expect(await list({ stage: 'loader' })).toEqual([ids[4]]);
        expect(await list({ stage: 'validator', rule: 'required' })).toEqual([ids[2], ids[0]]);
        expect(await list({ from: at(MINUTE), to: at(3 * MINUTE) })).toEqual([ids[2], ids[1]]);
        await store.markDeadLetterReplayed(ids[0] as string);
        expect(await list({ status: 'replayed' })).toEqual([ids[0]]);
        expect(await list({ status: 'open' })).toHaveLength(4);
        expect((await store.listDeadLetters({ userId: uid('nobody') }, { limit: 5 })).items).toEqual([]);
      });

      it('correction beside the original, replayed, resolved, deleted', async () => {
        const userId = uid('dlc');
        const dl = await store.recordDeadLetter(deadLetterJob(userId, 'e'));
        const correction = { played_at: '2026-03-01T08:00:00.000Z', track: { name: 'x', uri: 'spotify:track:fixed' } };
        const corrected = await store.correctDeadLetter(dl.id, correction);
        expect(corrected).toMatchObject({ id: dl.id, correction, record: dl.record, status: 'open' });
        await store.markDeadLetterReplayed(dl.id);
        const replayed = await store.getDeadLetter(dl.id);
        expect(replayed).toMatchObject({ status: 'replayed', correction });
        expect(replayed?.replayedAt).toBeInstanceOf(Date);
        await store.resolveDeadLetter(dl.id);
        expect(await store.getDeadLetter(dl.id)).toMatchObject({ status: 'resolved' });
        expect(await store.deleteDeadLetter(dl.id)).toBe(true);
        expect(await store.getDeadLetter(dl.id)).toBeNull();
        expect(await store.deleteDeadLetter(dl.id)).toBe(false);
      });

      it('unknown or malformed dead-letter ids answer null or false', async () => {
        for (const id of ['999999999', 'abc', '']) {
          expect(await store.getDeadLetter(id)).toBeNull();
          expect(await store.correctDeadLetter(id, { x: 1 })).toBeNull();
          expect(await store.deleteDeadLetter(id)).toBe(false);
          await expect(store.markDeadLetterReplayed(id)).resolves.toBeUndefined();
          await expect(store.resolveDeadLetter(id)).resolves.toBeUndefined();
        }
      });
    });
  });
}
