// Plays: the set-based, idempotent load (one transaction per batch) and the reads.
import type { Pool } from 'pg';
import type { LoadJob, Logger } from '@playledger/common';
import type { LoadResult, Page, PlayKey, StoredPlay } from '../types.ts';
import { catalogRows, type CatalogRows, type PlayRow as PlayInput } from '../shared/catalog.ts';
import { decodeInstantCursor, encodeInstantCursor } from '../shared/cursor.ts';
import { SAME_PLAY_WINDOW_MS } from '../shared/play-rules.ts';
import { inTransaction, type Queryable } from './db.ts';
import { evaluateGaps, lockUser } from './extractions.ts';
import { toStoredPlay, type PlayRow } from './rows.ts';

const WINDOW = `interval '${SAME_PLAY_WINDOW_MS} milliseconds'`;

/**
 * The batch's plays ($2, jsonb) collapsed by the 2 s rule inside the batch (chains of one track sorted by played_at:
 * a play within the window of the previous one is that play), then those with no stored play of the same track
 * within the window of them. $1 = user id.
 */
const UNKNOWN_PLAYS = `
WITH input AS (
  SELECT DISTINCT ON (track_uri, played_at) track_uri, played_at, context_type, context_uri
  FROM jsonb_to_recordset($2::jsonb) AS x(track_uri text, played_at timestamptz(3), context_type text, context_uri text)
  ORDER BY track_uri, played_at
), chained AS (
  SELECT i.*, lag(played_at) OVER (PARTITION BY track_uri ORDER BY played_at) AS previous FROM input i
)
SELECT c.track_uri, c.played_at, c.context_type, c.context_uri FROM chained c
WHERE (c.previous IS NULL OR c.played_at - c.previous > ${WINDOW})
  AND NOT EXISTS (
    SELECT 1 FROM plays p
    WHERE p.user_id = $1 AND p.track_uri = c.track_uri
      AND p.played_at BETWEEN c.played_at - ${WINDOW} AND c.played_at + ${WINDOW})
`;

export async function loadBatch(pool: Pool, job: LoadJob, logger: Logger): Promise<LoadResult> {
  const rows = catalogRows(job);
  return inTransaction(pool, async (db) => {
    await lockUser(db, job.userId);
    // a replayed or benchmarked batch may come without a record: create it
    await db.query(
      `INSERT INTO extractions (id, user_id, trigger, state, requested_at, fetched_at)
       VALUES ($1, $2, $3, 'loading', $4, $4) ON CONFLICT (id) DO NOTHING`,
      [job.extractionId, job.userId, job.extractionId.startsWith('sched-') ? 'scheduled' : 'manual', job.fetchedAt],
    );
    await upsertCatalog(db, rows);
    const inserted = await db.query(
      `INSERT INTO plays (user_id, track_uri, played_at, context_type, context_uri, extraction_id)
       SELECT $1, u.track_uri, u.played_at, u.context_type, u.context_uri, $3 FROM (${UNKNOWN_PLAYS}) u
       ON CONFLICT DO NOTHING`,
      [job.userId, JSON.stringify(rows.plays), job.extractionId],
    );
    const newPlays = inserted.rowCount ?? 0;
    const knownPlays = job.plays.length - newPlays;
    const times = rows.plays.map((p) => p.played_at).sort();
    // the counts of the first delivery stay; a failed (stale) record that loads after all becomes done
    await db.query(
      `UPDATE extractions SET state = 'done', reason = NULL, finished_at = now(),
         new_plays = $2, known_plays = $3, fetched = $4, dead_lettered = $5, page_full = $6,
         oldest_played_at = $7, newest_played_at = $8, fetched_at = coalesce(fetched_at, $9),
         gap_settled_at = CASE WHEN state = 'failed' THEN NULL ELSE gap_settled_at END
       WHERE id = $1 AND new_plays IS NULL`,
      [
        job.extractionId,
        newPlays,
        knownPlays,
        job.page.fetched,
        job.page.deadLettered,
        job.page.full,
        job.page.oldestPlayedAt ?? times[0] ?? null,
        job.page.newestPlayedAt ?? times[times.length - 1] ?? null,
        job.fetchedAt,
      ],
    );
    const gaps = await evaluateGaps(db, job.userId, logger);
    const gap = gaps.find((g) => g.extractionId === job.extractionId) ?? gaps[gaps.length - 1] ?? null;
    return { newPlays, knownPlays, gap };
  });
}

async function upsertCatalog(db: Queryable, rows: CatalogRows): Promise<void> {
  if (rows.artists.length) {
    await db.query(
      `INSERT INTO artists (uri, id, name)
       SELECT uri, id, name FROM jsonb_to_recordset($1::jsonb) AS x(uri text, id text, name text)
       ON CONFLICT (uri) DO UPDATE SET id = excluded.id, name = excluded.name, updated_at = now()
       WHERE (artists.id, artists.name) IS DISTINCT FROM (excluded.id, excluded.name)`,
      [JSON.stringify(rows.artists)],
    );
  }
  if (rows.albums.length) {
    await db.query(
      `INSERT INTO albums (uri, id, name, album_type, release_date)
       SELECT uri, id, name, album_type, release_date
       FROM jsonb_to_recordset($1::jsonb) AS x(uri text, id text, name text, album_type text, release_date text)
       ON CONFLICT (uri) DO UPDATE SET id = excluded.id, name = excluded.name, album_type = excluded.album_type,
         release_date = excluded.release_date, updated_at = now()
       WHERE (albums.id, albums.name, albums.album_type, albums.release_date)
         IS DISTINCT FROM (excluded.id, excluded.name, excluded.album_type, excluded.release_date)`,
      [JSON.stringify(rows.albums)],
    );
    await upsertCredits(db, 'album_artists', 'album_uri', rows.albumArtists, rows.albumArtistCounts);
  }
  if (rows.tracks.length) {
    await db.query(
      `INSERT INTO tracks (uri, id, name, duration_ms, explicit, isrc, is_local, disc_number, track_number, album_uri,
         local_album)
       SELECT uri, id, name, duration_ms, explicit, isrc, is_local, disc_number, track_number, album_uri, local_album
       FROM jsonb_to_recordset($1::jsonb) AS x(uri text, id text, name text, duration_ms integer, explicit boolean,
         isrc text, is_local boolean, disc_number integer, track_number integer, album_uri text, local_album jsonb)
       ON CONFLICT (uri) DO UPDATE SET id = excluded.id, name = excluded.name, duration_ms = excluded.duration_ms,
         explicit = excluded.explicit, isrc = excluded.isrc, is_local = excluded.is_local,
         disc_number = excluded.disc_number, track_number = excluded.track_number, album_uri = excluded.album_uri,
         local_album = excluded.local_album, updated_at = now()
       WHERE (tracks.id, tracks.name, tracks.duration_ms, tracks.explicit, tracks.isrc, tracks.is_local,
           tracks.disc_number, tracks.track_number, tracks.album_uri, tracks.local_album)
         IS DISTINCT FROM (excluded.id, excluded.name, excluded.duration_ms, excluded.explicit, excluded.isrc,
           excluded.is_local, excluded.disc_number, excluded.track_number, excluded.album_uri, excluded.local_album)`,
      [JSON.stringify(rows.tracks)],
    );
    await upsertCredits(
      db,
      'track_artists',
      'track_uri',
      rows.trackArtists,
      rows.tracks.map((t) => ({ uri: t.uri, artist_count: t.artist_count })),
    );
  }
}

/** The artists of tracks or albums, in order: upserted by position, positions beyond the current count removed. */
async function upsertCredits(
  db: Queryable,
  table: 'track_artists' | 'album_artists',
  owner: 'track_uri' | 'album_uri',
  credits: CatalogRows['trackArtists'],
  counts: { uri: string; artist_count: number }[],
): Promise<void> {
  if (credits.length) {
    await db.query(
      `INSERT INTO ${table} (${owner}, position, artist_uri, artist_id, artist_name)
       SELECT owner_uri, position, artist_uri, artist_id, artist_name
       FROM jsonb_to_recordset($1::jsonb) AS x(owner_uri text, position integer, artist_uri text, artist_id text,
         artist_name text)
       ON CONFLICT (${owner}, position) DO UPDATE SET artist_uri = excluded.artist_uri,
         artist_id = excluded.artist_id, artist_name = excluded.artist_name
       WHERE (${table}.artist_uri, ${table}.artist_id, ${table}.artist_name)
         IS DISTINCT FROM (excluded.artist_uri, excluded.artist_id, excluded.artist_name)`,
      [JSON.stringify(credits)],
    );
  }
  await db.query(
    `DELETE FROM ${table} c USING jsonb_to_recordset($1::jsonb) AS x(uri text, artist_count integer)
     WHERE c.${owner} = x.uri AND c.position >= x.artist_count`,
    [JSON.stringify(counts)],
  );
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
  const client = await pool.connect();
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
    client.release();
  }
}
