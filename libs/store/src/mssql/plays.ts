// Plays: the set-based, idempotent load (one transaction per batch) and the reads.
// The whole batch travels as ONE NVARCHAR(MAX) JSON parameter read with OPENJSON: no table type to deploy, no
// 2,100-parameter limit, no row-by-row round trips. The load is two requests inside one transaction after the
// user's lock: (1) catalog and plays upserted, counts set, gap candidates read; (2) gap decisions written.
import sql from 'mssql';
import type { LoadJob, Logger } from '@playledger/common';
import type { LoadResult, Page, PlayKey, StoredPlay } from '../types.ts';
import { catalogRows, type CatalogRows } from '../shared/catalog.ts';
import type { CatalogCache } from '../shared/catalog-cache.ts';
import { decodeInstantCursor, encodeInstantCursor } from '../shared/cursor.ts';
import { decideGaps } from '../shared/gaps.ts';
import { SAME_PLAY_WINDOW_MS } from '../shared/play-rules.ts';
import { inTransaction, lockUser, type Db } from './db.ts';
import {
  EXTRACTION_ID_TYPE,
  GAP_CANDIDATES,
  logGaps,
  pageLimit,
  settleGaps,
  sqlInstant,
  toCandidates,
  type CandidateRow,
} from './extractions.ts';
import { toStoredPlay, type PlayRow } from './rows.ts';
import { USER_ID_TYPE } from './users.ts';

const BIN = 'COLLATE Latin1_General_100_BIN2';

/** The batch as OPENJSON reads it: instants as yyyy-mm-ddThh:mi:ss.mmm (UTC), booleans as 1/0. */
export function batchJson(rows: CatalogRows): string {
  return JSON.stringify({
    artists: rows.artists,
    albums: rows.albums,
    albumArtists: rows.albumArtists,
    albumArtistCounts: rows.albumArtistCounts,
    tracks: rows.tracks.map((t) => ({ ...t, explicit: t.explicit ? 1 : 0, is_local: t.is_local ? 1 : 0 })),
    trackArtists: rows.trackArtists,
    plays: rows.plays.map((p) => ({ ...p, played_at: sqlInstant(new Date(p.played_at)) })),
  });
}

/**
 * The plays of the batch (@batch '$.plays') into @plays, one row per (track, instant). Grouped in the binary
 * collation: under a case-insensitive database default two URIs differing in case would otherwise merge.
 */
const STAGE_PLAYS = `
DECLARE @plays TABLE (
  track_uri NVARCHAR(400) ${BIN} NOT NULL,
  played_at DATETIME2(3) NOT NULL,
  context_type NVARCHAR(50) NULL,
  context_uri NVARCHAR(1000) NULL,
  PRIMARY KEY (track_uri, played_at));
INSERT INTO @plays (track_uri, played_at, context_type, context_uri)
SELECT j.track_uri ${BIN}, j.played_at, MIN(j.context_type), MIN(j.context_uri)
FROM OPENJSON(@batch, '$.plays')
  WITH (track_uri NVARCHAR(400), played_at DATETIME2(3), context_type NVARCHAR(50), context_uri NVARCHAR(1000)) AS j
GROUP BY j.track_uri ${BIN}, j.played_at;`;

/**
 * The staged plays collapsed by the 2 s rule inside the batch (chains of one track sorted by played_at: a play within
 * the window of the previous one is that play), then those with no stored play of the same track within the window.
 * `head` is what is done with them (an INSERT ... SELECT or a count: a CTE cannot sit inside a derived table);
 * `lock` adds UPDLOCK on the stored plays read (the load); the count reads without. No HOLDLOCK here on purpose:
 * the user's application lock already serializes every load of one user, and key-range locks on plays would only
 * make loads of different users (adjacent keys) block or deadlock each other.
 */
function unknownPlays(head: string, lock: boolean): string {
  return `
WITH chained AS (
  SELECT p.track_uri, p.played_at, p.context_type, p.context_uri,
    LAG(p.played_at) OVER (PARTITION BY p.track_uri ORDER BY p.played_at) AS previous
  FROM @plays p
)
${head}
FROM chained c
WHERE (c.previous IS NULL OR c.played_at > DATEADD(MILLISECOND, @window, c.previous))
  AND NOT EXISTS (
    SELECT 1 FROM plays s ${lock ? 'WITH (UPDLOCK)' : ''}
    WHERE s.user_id = @user_id AND s.track_uri = c.track_uri
      AND s.played_at BETWEEN DATEADD(MILLISECOND, -@window, c.played_at) AND DATEADD(MILLISECOND, @window, c.played_at));`;
}

/** Upsert of a catalog table from a staged table variable: changed rows updated, missing rows inserted (locked). */
function upsert(table: string, staged: string, key: string[], columns: string[], touch: boolean): string {
  const on = key.map((k) => `t.${k} = s.${k}`).join(' AND ');
  const sets = columns.map((c) => `${c} = s.${c}`);
  if (touch) sets.push('updated_at = SYSUTCDATETIME()');
  return `
INSERT INTO ${table} (${[...key, ...columns].join(', ')})
SELECT ${[...key, ...columns].map((c) => `s.${c}`).join(', ')} FROM ${staged} s
WHERE NOT EXISTS (SELECT 1 FROM ${table} t WITH (UPDLOCK, HOLDLOCK) WHERE ${on});
UPDATE t SET ${sets.join(', ')}
FROM ${table} t JOIN ${staged} s ON ${on}
WHERE NOT EXISTS (SELECT ${columns.map((c) => `t.${c}`).join(', ')} INTERSECT SELECT ${columns.map((c) => `s.${c}`).join(', ')});`;
}

/** Credits (the artists of tracks or albums, in order): upserted by position, positions past the count removed. */
function credits(table: string, owner: string, path: string, counts: string): string {
  const staged = `@${table}`;
  return `
DECLARE ${staged} TABLE (
  ${owner} NVARCHAR(400) ${BIN} NOT NULL,
  position INT NOT NULL,
  artist_uri NVARCHAR(400) ${BIN} NULL,
  artist_id NVARCHAR(100) ${BIN} NULL,
  artist_name NVARCHAR(1000) NOT NULL,
  PRIMARY KEY (${owner}, position));
INSERT INTO ${staged} (${owner}, position, artist_uri, artist_id, artist_name)
SELECT owner_uri, position, artist_uri, artist_id, artist_name FROM OPENJSON(@batch, '${path}')
  WITH (owner_uri NVARCHAR(MAX), position INT, artist_uri NVARCHAR(MAX), artist_id NVARCHAR(MAX), artist_name NVARCHAR(MAX));
${upsert(table, staged, [owner, 'position'], ['artist_uri', 'artist_id', 'artist_name'], false)}
DELETE c FROM ${table} c
JOIN ${counts} x ON c.${owner} = x.uri
WHERE c.position >= x.artist_count;`;
}

/**
 * Request (1) of the load: everything but the gap decisions. Parameters: see `loadBatch`. Catalog strings are read
 * from the JSON as NVARCHAR(MAX): a value too long for its column then fails the batch loudly (truncation error) when
 * it lands in the bounded table variable, instead of being cut silently by the conversion.
 */
export const LOAD_BATCH = `
SET NOCOUNT ON;
-- a replayed or benchmarked batch may come without a record: create it
INSERT INTO extractions (id, user_id, [trigger], state, requested_at, fetched_at)
SELECT @extraction_id, @user_id, @trigger, 'loading', @fetched_at, @fetched_at
WHERE NOT EXISTS (SELECT 1 FROM extractions WITH (UPDLOCK, HOLDLOCK) WHERE id = @extraction_id);

DECLARE @artists TABLE (
  uri NVARCHAR(400) ${BIN} NOT NULL PRIMARY KEY,
  id NVARCHAR(100) ${BIN} NULL,
  name NVARCHAR(1000) NOT NULL);
INSERT INTO @artists (uri, id, name)
SELECT uri, id, name FROM OPENJSON(@batch, '$.artists') WITH (uri NVARCHAR(MAX), id NVARCHAR(MAX), name NVARCHAR(MAX));
${upsert('artists', '@artists', ['uri'], ['id', 'name'], true)}

DECLARE @albums TABLE (
  uri NVARCHAR(400) ${BIN} NOT NULL PRIMARY KEY,
  id NVARCHAR(100) ${BIN} NULL,
  name NVARCHAR(1000) NOT NULL,
  album_type NVARCHAR(50) NULL,
  release_date NVARCHAR(20) NULL);
INSERT INTO @albums (uri, id, name, album_type, release_date)
SELECT uri, id, name, album_type, release_date FROM OPENJSON(@batch, '$.albums')
  WITH (uri NVARCHAR(MAX), id NVARCHAR(MAX), name NVARCHAR(MAX), album_type NVARCHAR(MAX), release_date NVARCHAR(MAX));
${upsert('albums', '@albums', ['uri'], ['id', 'name', 'album_type', 'release_date'], true)}

DECLARE @album_counts TABLE (uri NVARCHAR(400) ${BIN} NOT NULL PRIMARY KEY, artist_count INT NOT NULL);
INSERT INTO @album_counts (uri, artist_count)
SELECT uri, artist_count FROM OPENJSON(@batch, '$.albumArtistCounts') WITH (uri NVARCHAR(MAX), artist_count INT);
${credits('album_artists', 'album_uri', '$.albumArtists', '@album_counts')}

DECLARE @tracks TABLE (
  uri NVARCHAR(400) ${BIN} NOT NULL PRIMARY KEY,
  id NVARCHAR(100) ${BIN} NULL,
  name NVARCHAR(1000) NOT NULL,
  duration_ms INT NOT NULL,
  explicit BIT NOT NULL,
  isrc NVARCHAR(50) NULL,
  is_local BIT NOT NULL,
  disc_number INT NULL,
  track_number INT NULL,
  album_uri NVARCHAR(400) ${BIN} NULL,
  local_album NVARCHAR(MAX) NULL,
  artist_count INT NOT NULL);
INSERT INTO @tracks (uri, id, name, duration_ms, explicit, isrc, is_local, disc_number, track_number, album_uri,
  local_album, artist_count)
SELECT uri, id, name, duration_ms, explicit, isrc, is_local, disc_number, track_number, album_uri, local_album,
  artist_count
FROM OPENJSON(@batch, '$.tracks')
  WITH (uri NVARCHAR(MAX), id NVARCHAR(MAX), name NVARCHAR(MAX), duration_ms INT, explicit BIT, isrc NVARCHAR(MAX),
    is_local BIT, disc_number INT, track_number INT, album_uri NVARCHAR(MAX), local_album NVARCHAR(MAX) AS JSON,
    artist_count INT);
${upsert(
  'tracks',
  '@tracks',
  ['uri'],
  [
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
  true,
)}

DECLARE @track_counts TABLE (uri NVARCHAR(400) ${BIN} NOT NULL PRIMARY KEY, artist_count INT NOT NULL);
INSERT INTO @track_counts (uri, artist_count) SELECT uri, artist_count FROM @tracks;
${credits('track_artists', 'track_uri', '$.trackArtists', '@track_counts')}

${STAGE_PLAYS}
DECLARE @new_plays INT;
DECLARE @first_delivery BIT;
${unknownPlays(
  `INSERT INTO plays (user_id, track_uri, played_at, context_type, context_uri, extraction_id)
SELECT @user_id, c.track_uri, c.played_at, c.context_type, c.context_uri, @extraction_id`,
  true,
)}
SET @new_plays = @@ROWCOUNT;

-- the counts of the first delivery stay; a failed (stale) record that loads after all becomes done
UPDATE extractions SET state = 'done', reason = NULL, finished_at = SYSUTCDATETIME(),
  new_plays = @new_plays, known_plays = @total_plays - @new_plays, fetched = @fetched, dead_lettered = @dead_lettered,
  page_full = @page_full, oldest_played_at = @oldest, newest_played_at = @newest,
  fetched_at = COALESCE(fetched_at, @fetched_at),
  gap_settled_at = CASE WHEN state = 'failed' THEN NULL ELSE gap_settled_at END
WHERE id = @extraction_id AND new_plays IS NULL;
SET @first_delivery = CASE WHEN @@ROWCOUNT > 0 THEN 1 ELSE 0 END;

SELECT @new_plays AS new_plays, @first_delivery AS first_delivery;
${GAP_CANDIDATES};`;

export async function loadBatch(
  pool: sql.ConnectionPool,
  job: LoadJob,
  catalog: CatalogCache,
  logger: Logger,
): Promise<LoadResult> {
  const prints = catalog.fingerprints(job);
  const rows = catalogRows(job, (uri) => catalog.has(uri, prints));
  const times = rows.plays.map((p) => p.played_at).sort();
  const oldest = job.page.oldestPlayedAt ?? times[0] ?? null;
  const newest = job.page.newestPlayedAt ?? times[times.length - 1] ?? null;
  const result = await inTransaction(pool, async (tx): Promise<LoadResult> => {
    await lockUser(tx, job.userId);
    const r = await tx
      .request()
      .input('user_id', USER_ID_TYPE, job.userId)
      .input('extraction_id', EXTRACTION_ID_TYPE, job.extractionId)
      .input('trigger', sql.VarChar(20), job.extractionId.startsWith('sched-') ? 'scheduled' : 'manual')
      .input('fetched_at', sql.DateTime2(3), new Date(job.fetchedAt))
      .input('batch', sql.NVarChar(sql.MAX), batchJson(rows))
      .input('window', sql.Int, SAME_PLAY_WINDOW_MS)
      .input('total_plays', sql.Int, job.plays.length)
      .input('fetched', sql.Int, job.page.fetched)
      .input('dead_lettered', sql.Int, job.page.deadLettered)
      .input('page_full', sql.Bit, job.page.full)
      .input('oldest', sql.DateTime2(3), oldest === null ? null : new Date(oldest))
      .input('newest', sql.DateTime2(3), newest === null ? null : new Date(newest))
      .query(LOAD_BATCH);
    const recordsets = r.recordsets as unknown as [
      { new_plays: number; first_delivery: boolean | number | null }[]?,
      CandidateRow[]?,
    ];
    const newPlays = recordsets[0]?.[0]?.new_plays ?? 0;
    const knownPlays = job.plays.length - newPlays;
    const gaps = await settleGaps(tx, job.userId, decideGaps(toCandidates(recordsets[1] ?? [])));
    logGaps(logger, gaps);
    const gap = gaps.find((g) => g.extractionId === job.extractionId) ?? gaps[gaps.length - 1] ?? null;
    // only a redelivery says so: a first delivery's result stays { newPlays, knownPlays, gap }
    const first = recordsets[0]?.[0]?.first_delivery;
    return first !== undefined && first !== null && !first
      ? { newPlays, knownPlays, gap, redelivery: true }
      : { newPlays, knownPlays, gap };
  });
  catalog.remember(prints); // committed
  return result;
}

export const COUNT_UNKNOWN = `
SET NOCOUNT ON;
${STAGE_PLAYS}
${unknownPlays('SELECT COUNT(*) AS n', false)}`;

export async function countUnknownPlays(db: Db, userId: string, plays: PlayKey[]): Promise<number> {
  if (plays.length === 0) return 0;
  const input = plays.map((p) => ({ track_uri: p.trackUri, played_at: sqlInstant(p.playedAt) }));
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .input('batch', sql.NVarChar(sql.MAX), JSON.stringify({ plays: input }))
    .input('window', sql.Int, SAME_PLAY_WINDOW_MS)
    .query<{ n: number }>(COUNT_UNKNOWN);
  return r.recordset[0]?.n ?? 0;
}

export async function newestPlayedAt(db: Db, userId: string): Promise<Date | null> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<{ newest: Date | null }>('SELECT MAX(played_at) AS newest FROM plays WHERE user_id = @user_id');
  return r.recordset[0]?.newest ?? null;
}

export async function countPlays(db: Db, userId: string): Promise<number> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<{ n: number }>('SELECT COUNT_BIG(*) AS n FROM plays WHERE user_id = @user_id');
  return Number(r.recordset[0]?.n ?? 0);
}

const ARTISTS_JSON = (table: string, owner: string, ownerValue: string): string =>
  `(SELECT c.artist_uri AS uri, c.artist_id AS id, c.artist_name AS name FROM ${table} c
     WHERE c.${owner} = ${ownerValue} ORDER BY c.position FOR JSON PATH, INCLUDE_NULL_VALUES)`;

export const PLAY_SELECT = `
SELECT TOP (@take) p.user_id, p.track_uri, p.played_at, p.context_type, p.context_uri, p.extraction_id, p.loaded_at,
  t.id AS track_id, t.name AS track_name, t.duration_ms, t.explicit, t.isrc, t.is_local, t.disc_number,
  t.track_number, t.album_uri, t.local_album, al.id AS album_id, al.name AS album_name, al.album_type, al.release_date,
  ${ARTISTS_JSON('album_artists', 'album_uri', 't.album_uri')} AS album_artists,
  ${ARTISTS_JSON('track_artists', 'track_uri', 'p.track_uri')} AS track_artists
FROM plays p
JOIN tracks t ON t.uri = p.track_uri
LEFT JOIN albums al ON al.uri = t.album_uri`;

interface PlayQuery {
  userId: string;
  from?: Date;
  to?: Date;
  after?: { at: Date; id: string };
  take: number;
  direction: 'ASC' | 'DESC';
}

async function selectPlays(db: Db, q: PlayQuery): Promise<PlayRow[]> {
  const req = db.request().input('user_id', USER_ID_TYPE, q.userId).input('take', sql.Int, q.take);
  const where = ['p.user_id = @user_id'];
  if (q.from) {
    req.input('from', sql.DateTime2(3), q.from);
    where.push('p.played_at >= @from');
  }
  if (q.to) {
    req.input('to', sql.DateTime2(3), q.to);
    where.push('p.played_at < @to');
  }
  if (q.after) {
    const op = q.direction === 'DESC' ? '<' : '>';
    req.input('after_at', sql.DateTime2(3), q.after.at).input('after_uri', sql.NVarChar(400), q.after.id);
    where.push(`(p.played_at ${op} @after_at OR (p.played_at = @after_at AND p.track_uri ${op} @after_uri))`);
  }
  const r = await req.query<PlayRow>(
    `${PLAY_SELECT} WHERE ${where.join(' AND ')} ORDER BY p.played_at ${q.direction}, p.track_uri ${q.direction}`,
  );
  return r.recordset;
}

/** Newest first (played_at, then track URI, descending); `from` inclusive, `to` exclusive. */
export async function listPlays(
  db: Db,
  userId: string,
  range: { from?: Date; to?: Date; limit: number; cursor?: string },
): Promise<Page<StoredPlay>> {
  const limit = pageLimit(range.limit);
  const rows = await selectPlays(db, {
    userId,
    from: range.from,
    to: range.to,
    after: range.cursor ? decodeInstantCursor(range.cursor) : undefined,
    take: limit + 1,
    direction: 'DESC',
  });
  const items = rows.slice(0, limit).map(toStoredPlay);
  const last = rows[Math.min(limit, rows.length) - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeInstantCursor(last.played_at, last.track_uri) : null,
  };
}

export const STREAM_BATCH = 1_000;

/**
 * Oldest first, in keyset pages of STREAM_BATCH on the clustered index (user_id, played_at): constant memory
 * whatever the history. Not one snapshot: a play loaded meanwhile after the current position is included.
 */
export async function* streamPlays(
  db: Db,
  userId: string,
  range: { from?: Date; to?: Date },
): AsyncGenerator<StoredPlay> {
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const rows = await selectPlays(db, {
      userId,
      from: range.from,
      to: range.to,
      after,
      take: STREAM_BATCH,
      direction: 'ASC',
    });
    for (const row of rows) yield toStoredPlay(row);
    const last = rows[rows.length - 1];
    if (rows.length < STREAM_BATCH || !last) return;
    after = { at: last.played_at, id: last.track_uri };
  }
}
