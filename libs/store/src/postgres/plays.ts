// Plays: the set-based, idempotent load (one transaction per batch) and the reads.
import type { Pool } from 'pg';
import type { LoadJob, Logger } from '@playledger/common';
import type { LoadResult, Page, PlayKey, StoredPlay } from '../types.ts';
import { catalogRows, type PlayRow as PlayInput } from '../shared/catalog.ts';
import type { CatalogCache } from '../shared/catalog-cache.ts';
import { decodeInstantCursor, encodeInstantCursor } from '../shared/cursor.ts';
import { SAME_PLAY_WINDOW_MS } from '../shared/play-rules.ts';
import { checkout, type Queryable } from './db.ts';
import { gapCandidatesQuery, gapSettlement, lockUserQuery, recordedGap, type GapCandidateRow } from './extractions.ts';
import { toStoredPlay, type GapRow, type PlayRow } from './rows.ts';

const WINDOW = `interval '${SAME_PLAY_WINDOW_MS} milliseconds'`;

/**
 * The batch's plays (`plays`, a jsonb array) collapsed by the 2 s rule inside the batch (chains of one track sorted by
 * played_at: a play within the window of the previous one is that play), then those with no stored play of the same
 * track within the window of them (`user`, the user id).
 */
function unknownPlays(user: string, plays: string): string {
  return `
WITH input AS (
  SELECT DISTINCT ON (track_uri, played_at) track_uri, played_at, context_type, context_uri
  FROM jsonb_to_recordset(${plays}) AS x(track_uri text, played_at timestamptz(3), context_type text, context_uri text)
  ORDER BY track_uri, played_at
), chained AS (
  SELECT i.*, lag(played_at) OVER (PARTITION BY track_uri ORDER BY played_at) AS previous FROM input i
)
SELECT c.track_uri, c.played_at, c.context_type, c.context_uri FROM chained c
WHERE (c.previous IS NULL OR c.played_at - c.previous > ${WINDOW})
  AND NOT EXISTS (
    SELECT 1 FROM plays p
    WHERE p.user_id = ${user} AND p.track_uri = c.track_uri
      AND p.played_at BETWEEN c.played_at - ${WINDOW} AND c.played_at + ${WINDOW})
`;
}

const UNKNOWN_PLAYS = unknownPlays('$1', '$2::jsonb');

interface CatalogTable {
  table: string;
  /** the CTE names' prefix */
  tag: string;
  /** the key of the table, in the order rows are sorted and locked */
  key: string[];
  /** the columns a newer page may change */
  values: string[];
  /** jsonb_to_recordset's column list; the input's key columns may be named differently (input name = key[i]) */
  recordset: string;
  /** the input's columns, as the table names them */
  select: string;
  /** which part of the batch ($1) */
  part: string;
}

/**
 * One table of the catalog, as CTEs of the load statement. Rows that are new go in (`ON CONFLICT DO NOTHING`: an
 * existing row is neither changed nor locked); rows that exist and differ are locked in key order (two loaders sharing
 * them lock them in one order: no deadlock) and updated. Identical rows are only read, so concurrent batches that
 * share an artist, album or track do not wait for each other.
 */
function catalogCtes(t: CatalogTable): string {
  const cols = [...t.key, ...t.values];
  const on = t.key.map((k) => `c.${k} = x.${k}`).join(' AND ');
  const differs = `(${t.values.map((v) => `c.${v}`).join(', ')}) IS DISTINCT FROM (${t.values.map((v) => `x.${v}`).join(', ')})`;
  const keyList = t.key.map((k) => `c.${k}`).join(', ');
  return `
${t.tag}_in AS (
  SELECT ${t.select} FROM jsonb_to_recordset($1::jsonb -> '${t.part}') AS x(${t.recordset})
), ${t.tag}_new AS (
  INSERT INTO ${t.table} (${cols.join(', ')})
  SELECT ${cols.join(', ')} FROM ${t.tag}_in ORDER BY ${t.key.join(', ')}
  ON CONFLICT (${t.key.join(', ')}) DO NOTHING
), ${t.tag}_lock AS (
  SELECT x.* FROM ${t.table} c JOIN ${t.tag}_in x ON ${on}
  WHERE ${differs} ORDER BY ${keyList} FOR UPDATE OF c
), ${t.tag}_changed AS (
  UPDATE ${t.table} c SET ${t.values.map((v) => `${v} = x.${v}`).join(', ')}${t.table.endsWith('_artists') ? '' : ', updated_at = now()'}
  FROM ${t.tag}_lock x
  WHERE ${on} AND ${differs}
)`;
}

const CREDIT_RECORDSET = 'owner_uri text, position integer, artist_uri text, artist_id text, artist_name text';

/**
 * The whole batch but the user's lock and the gap evaluation, as one statement. $1 = the batch (catalog rows and
 * plays, shared/catalog.ts), $2 = user id, $3 = extraction id, $4 = trigger (for a missing record), $5 = fetched at,
 * $6 = plays in the job, $7 = fetched, $8 = dead-lettered, $9 = page full, $10 = oldest, $11 = newest.
 *
 * The statement sees the database as it was when it started (the user's lock is taken before, by its own statement, so
 * every earlier load of the user is visible to the 2 s rule). Catalog tables: see `catalogCtes`; credits beyond an
 * owner's current artist count are removed. Plays: the 2 s rule, inserted. The extraction: created when missing, and
 * set done with its counts only while it has none (the first delivery; a failed (stale) record that loads after all
 * becomes done and is evaluated again). Returns the plays inserted and whether this delivery was the first.
 */
const LOAD_STATEMENT = `
WITH ${catalogCtes({
  table: 'artists',
  tag: 'art',
  key: ['uri'],
  values: ['id', 'name'],
  recordset: 'uri text, id text, name text',
  select: 'uri, id, name',
  part: 'artists',
})}, ${catalogCtes({
  table: 'albums',
  tag: 'alb',
  key: ['uri'],
  values: ['id', 'name', 'album_type', 'release_date'],
  recordset: 'uri text, id text, name text, album_type text, release_date text',
  select: 'uri, id, name, album_type, release_date',
  part: 'albums',
})}, ${catalogCtes({
  table: 'album_artists',
  tag: 'albc',
  key: ['album_uri', 'position'],
  values: ['artist_uri', 'artist_id', 'artist_name'],
  recordset: CREDIT_RECORDSET,
  select: 'owner_uri AS album_uri, position, artist_uri, artist_id, artist_name',
  part: 'albumArtists',
})}, albc_gone AS (
  DELETE FROM album_artists c USING jsonb_to_recordset($1::jsonb -> 'albumArtistCounts') AS x(uri text, artist_count integer)
  WHERE c.album_uri = x.uri AND c.position >= x.artist_count
), ${catalogCtes({
  table: 'tracks',
  tag: 'trk',
  key: ['uri'],
  values: [
    'id',
    'name',
    'duration_ms',
    'explicit',
    'isrc',
    'is_local',
    'disc_number',
    'track_number',
    'album_uri',
    'local_album',
  ],
  recordset:
    'uri text, id text, name text, duration_ms integer, explicit boolean, isrc text, is_local boolean, disc_number integer, track_number integer, album_uri text, local_album jsonb',
  select: 'uri, id, name, duration_ms, explicit, isrc, is_local, disc_number, track_number, album_uri, local_album',
  part: 'tracks',
})}, ${catalogCtes({
  table: 'track_artists',
  tag: 'trkc',
  key: ['track_uri', 'position'],
  values: ['artist_uri', 'artist_id', 'artist_name'],
  recordset: CREDIT_RECORDSET,
  select: 'owner_uri AS track_uri, position, artist_uri, artist_id, artist_name',
  part: 'trackArtists',
})}, trkc_gone AS (
  DELETE FROM track_artists c USING jsonb_to_recordset($1::jsonb -> 'tracks') AS x(uri text, artist_count integer)
  WHERE c.track_uri = x.uri AND c.position >= x.artist_count
), play_new AS (
  INSERT INTO plays (user_id, track_uri, played_at, context_type, context_uri, extraction_id)
  SELECT $2::text, u.track_uri, u.played_at, u.context_type, u.context_uri, $3::text
  FROM (${unknownPlays('$2::text', "$1::jsonb -> 'plays'")}) u
  ON CONFLICT DO NOTHING
  RETURNING 1
), counted AS (
  SELECT count(*)::integer AS new_plays FROM play_new
), first_delivery AS (
  INSERT INTO extractions AS e (id, user_id, trigger, state, requested_at, fetched_at, finished_at, new_plays,
    known_plays, fetched, dead_lettered, page_full, oldest_played_at, newest_played_at)
  SELECT $3::text, $2::text, $4::text, 'done', $5::timestamptz, $5::timestamptz, now(), n.new_plays,
    $6::integer - n.new_plays, $7::integer, $8::integer, $9::boolean, $10::timestamptz, $11::timestamptz
  FROM counted n
  ON CONFLICT (id) DO UPDATE SET state = 'done', reason = NULL, finished_at = now(),
    new_plays = excluded.new_plays, known_plays = excluded.known_plays, fetched = excluded.fetched,
    dead_lettered = excluded.dead_lettered, page_full = excluded.page_full,
    oldest_played_at = excluded.oldest_played_at, newest_played_at = excluded.newest_played_at,
    fetched_at = coalesce(e.fetched_at, excluded.fetched_at),
    gap_settled_at = CASE WHEN e.state = 'failed' THEN NULL ELSE e.gap_settled_at END
  WHERE e.new_plays IS NULL
  RETURNING 1
)
SELECT n.new_plays, EXISTS (SELECT 1 FROM first_delivery) AS first FROM counted n
`;

/**
 * One transaction in two round trips, on a client of a pipelined pool (`pipeline: true`: statements are written
 * without waiting for the previous answer; the server still runs them one after another, each with its own sync
 * point, so a failing statement aborts the transaction and every later one fails with it):
 * 1. BEGIN, the user's lock, the load statement, the gap candidates (which see the load: a later statement);
 * 2. the gap decisions (shared/gaps.ts, in this process), written with COMMIT.
 */
export async function loadBatch(pool: Pool, job: LoadJob, catalog: CatalogCache, logger: Logger): Promise<LoadResult> {
  const prints = catalog.fingerprints(job);
  const rows = catalogRows(job, (uri) => catalog.has(uri, prints));
  const times = rows.plays.map((p) => p.played_at).sort();
  const { client, release } = await checkout(pool);
  let open = true;
  let broken: Error | undefined;
  try {
    const [, , loaded, candidates] = await Promise.all([
      client.query('BEGIN'),
      client.query(lockUserQuery(job.userId)),
      // a prepared statement (per connection): the statement is planned once, not at every batch
      client.query<{ new_plays: number; first: boolean }>({
        name: 'playledger-load-batch-1',
        text: LOAD_STATEMENT,
        values: [
          JSON.stringify(rows),
          job.userId,
          job.extractionId,
          job.extractionId.startsWith('sched-') ? 'scheduled' : 'manual',
          job.fetchedAt,
          job.plays.length,
          job.page.fetched,
          job.page.deadLettered,
          job.page.full,
          job.page.oldestPlayedAt ?? times[0] ?? null,
          job.page.newestPlayedAt ?? times[times.length - 1] ?? null,
        ],
      }),
      client.query<GapCandidateRow>(gapCandidatesQuery(job.userId)),
    ]);
    const settlement = gapSettlement(job.userId, candidates.rows);
    const [recorded] = await Promise.all([
      Promise.all(settlement.gaps.map((q) => client.query<GapRow>(q))),
      settlement.settled ? client.query(settlement.settled) : null,
      client.query('COMMIT'),
    ]);
    open = false;
    catalog.remember(prints);
    const gaps = recorded.map((r) => recordedGap(r, job.userId, logger));
    const newPlays = loaded.rows[0]?.new_plays ?? 0;
    const knownPlays = job.plays.length - newPlays;
    const gap = gaps.find((g) => g.extractionId === job.extractionId) ?? gaps[gaps.length - 1] ?? null;
    // only a redelivery says so: a first delivery's result stays { newPlays, knownPlays, gap }
    return loaded.rows[0]?.first === false
      ? { newPlays, knownPlays, gap, redelivery: true }
      : { newPlays, knownPlays, gap };
  } catch (error) {
    // a client that cannot even roll back is not given back to the pool
    if (open)
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
    throw error;
  } finally {
    release(broken);
  }
}

export async function countUnknownPlays(db: Queryable, userId: string, plays: PlayKey[]): Promise<number> {
  if (plays.length === 0) return 0;
  const input: Pick<PlayInput, 'track_uri' | 'played_at'>[] = plays.map((p) => ({
    track_uri: p.trackUri,
    played_at: p.playedAt.toISOString(),
  }));
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (${UNKNOWN_PLAYS}) u`, [
    userId,
    JSON.stringify(input),
  ]);
  return Number(r.rows[0]?.n ?? 0);
}

export async function newestPlayedAt(db: Queryable, userId: string): Promise<Date | null> {
  const r = await db.query<{ at: Date | null }>('SELECT max(played_at) AS at FROM plays WHERE user_id = $1', [userId]);
  return r.rows[0]?.at ?? null;
}

export async function countPlays(db: Queryable, userId: string): Promise<number> {
  const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM plays WHERE user_id = $1', [userId]);
  return Number(r.rows[0]?.n ?? 0);
}

const PLAY_SELECT = `
SELECT p.user_id, p.track_uri, p.played_at, p.context_type, p.context_uri, p.extraction_id, p.loaded_at,
  t.id AS track_id, t.name AS track_name, t.duration_ms, t.explicit, t.isrc, t.is_local, t.disc_number,
  t.track_number, t.album_uri, t.local_album, al.id AS album_id, al.name AS album_name, al.album_type, al.release_date,
  (SELECT jsonb_agg(jsonb_build_object('uri', c.artist_uri, 'id', c.artist_id, 'name', c.artist_name)
     ORDER BY c.position) FROM album_artists c WHERE c.album_uri = t.album_uri) AS album_artists,
  (SELECT jsonb_agg(jsonb_build_object('uri', c.artist_uri, 'id', c.artist_id, 'name', c.artist_name)
     ORDER BY c.position) FROM track_artists c WHERE c.track_uri = p.track_uri) AS track_artists
FROM plays p
JOIN tracks t ON t.uri = p.track_uri
LEFT JOIN albums al ON al.uri = t.album_uri`;

/** Newest first (played_at, then track URI, descending); `from` inclusive, `to` exclusive. */
export async function listPlays(
  db: Queryable,
  userId: string,
  range: { from?: Date; to?: Date; limit: number; cursor?: string },
): Promise<Page<StoredPlay>> {
  const after = range.cursor ? decodeInstantCursor(range.cursor) : null;
  const limit = Math.max(1, Math.floor(range.limit));
  const r = await db.query<PlayRow>(
    `${PLAY_SELECT}
     WHERE p.user_id = $1 AND ($2::timestamptz IS NULL OR p.played_at >= $2)
       AND ($3::timestamptz IS NULL OR p.played_at < $3)
       AND ($4::timestamptz IS NULL OR (p.played_at, p.track_uri) < ($4, $5::text))
     ORDER BY p.played_at DESC, p.track_uri DESC LIMIT $6`,
    [userId, range.from ?? null, range.to ?? null, after?.at ?? null, after?.id ?? null, limit + 1],
  );
  const items = r.rows.slice(0, limit).map(toStoredPlay);
  const last = r.rows[Math.min(limit, r.rows.length) - 1];
  return {
    items,
    nextCursor: r.rows.length > limit && last ? encodeInstantCursor(last.played_at, last.track_uri) : null,
  };
}

const STREAM_BATCH = 1_000;

/** Oldest first, through a server-side cursor on a dedicated client: constant memory whatever the history. */
export async function* streamPlays(
  pool: Pool,
  userId: string,
  range: { from?: Date; to?: Date },
): AsyncGenerator<StoredPlay> {
  const { client, release } = await checkout(pool);
  let open = false;
  try {
    await client.query('BEGIN READ ONLY');
    open = true;
    // a long history makes the planner JIT-compile the per-row artist lookups: seconds spent before the first row
    await client.query('SET LOCAL jit = off');
    await client.query(
      `DECLARE plays_stream NO SCROLL CURSOR FOR ${PLAY_SELECT}
       WHERE p.user_id = $1 AND ($2::timestamptz IS NULL OR p.played_at >= $2)
         AND ($3::timestamptz IS NULL OR p.played_at < $3)
       ORDER BY p.played_at, p.track_uri`,
      [userId, range.from ?? null, range.to ?? null],
    );
    for (;;) {
      const r = await client.query<PlayRow>(`FETCH ${STREAM_BATCH} FROM plays_stream`);
      for (const row of r.rows) yield toStoredPlay(row);
      if (r.rows.length < STREAM_BATCH) break;
    }
    await client.query('COMMIT');
    open = false;
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    release();
  }
}
