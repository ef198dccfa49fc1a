// The SQL Server schema, as versioned migrations. Same tables, columns and view as the PostgreSQL adapter.
// Every instant is DATETIME2(3) in UTC. Each step is sent as its own batch (CREATE VIEW must stand alone).
import type { Logger } from '@playledger/common';
import type sql from 'mssql';

export interface MigrationContext {
  /** a request inside the migration transaction */
  request(): sql.Request;
  logger: Logger;
}

export type MigrationStep = string | ((ctx: MigrationContext) => Promise<void>);

export interface Migration {
  /** sortable and unique: '0001', '0002', ... (the same versions as the PostgreSQL adapter) */
  version: string;
  name: string;
  steps: MigrationStep[];
}

/**
 * Key sizes: a clustered key holds at most 900 bytes, a nonclustered one 1,700 (NVARCHAR = 2 bytes a character).
 * Spotify ids and URIs are case-sensitive, so keys compare in a binary collation whatever the database's default.
 */
const BIN = 'COLLATE Latin1_General_100_BIN2';
const USER_ID = `NVARCHAR(128) ${BIN}`;
const EXTRACTION_ID = `NVARCHAR(200) ${BIN}`;
const URI = `NVARCHAR(400) ${BIN}`;
const SPOTIFY_ID = `NVARCHAR(100) ${BIN}`;

const core: Migration = {
  version: '0001',
  name: 'users and credentials',
  steps: [
    `CREATE TABLE users (
      user_id ${USER_ID} NOT NULL CONSTRAINT pk_users PRIMARY KEY,
      spotify_id NVARCHAR(255) NOT NULL,
      account_id NVARCHAR(255) NULL,
      display_name NVARCHAR(1000) NULL,
      status VARCHAR(20) NOT NULL CONSTRAINT ck_users_status CHECK (status IN ('active', 'paused', 'needs_reauth')),
      status_reason NVARCHAR(MAX) NULL,
      authorized_at DATETIME2(3) NOT NULL,
      created_at DATETIME2(3) NOT NULL CONSTRAINT df_users_created_at DEFAULT SYSUTCDATETIME(),
      updated_at DATETIME2(3) NOT NULL CONSTRAINT df_users_updated_at DEFAULT SYSUTCDATETIME()
    )`,
    `CREATE INDEX users_authorized_at ON users (authorized_at, user_id)`,
    `CREATE TABLE user_credentials (
      user_id ${USER_ID} NOT NULL CONSTRAINT pk_user_credentials PRIMARY KEY
        CONSTRAINT fk_user_credentials_user REFERENCES users (user_id) ON DELETE CASCADE,
      key_id NVARCHAR(100) NOT NULL,
      ciphertext NVARCHAR(MAX) NOT NULL,
      scope NVARCHAR(MAX) NOT NULL,
      updated_at DATETIME2(3) NOT NULL CONSTRAINT df_user_credentials_updated_at DEFAULT SYSUTCDATETIME()
    )`,
  ],
};

const pipeline: Migration = {
  version: '0002',
  name: 'extractions, catalog, plays, gaps, dead letters',
  steps: [
    `CREATE TABLE extractions (
      id ${EXTRACTION_ID} NOT NULL CONSTRAINT pk_extractions PRIMARY KEY,
      user_id ${USER_ID} NOT NULL,
      [trigger] VARCHAR(20) NOT NULL CONSTRAINT ck_extractions_trigger CHECK ([trigger] IN ('scheduled', 'manual')),
      state VARCHAR(20) NOT NULL CONSTRAINT ck_extractions_state
        CHECK (state IN ('pending', 'validating', 'loading', 'done', 'no_new_plays', 'failed')),
      reason NVARCHAR(MAX) NULL,
      requested_at DATETIME2(3) NOT NULL,
      fetched_at DATETIME2(3) NULL,
      finished_at DATETIME2(3) NULL,
      fetched INT NULL,
      new_plays INT NULL,
      known_plays INT NULL,
      dead_lettered INT NULL,
      page_full BIT NULL,
      oldest_played_at DATETIME2(3) NULL,
      newest_played_at DATETIME2(3) NULL,
      gap_id BIGINT NULL,
      /* gap evaluation (shared/gaps.ts): extractions are taken in order of order_at; settled ones are never looked at again */
      order_at AS COALESCE(fetched_at, requested_at) PERSISTED,
      gap_settled_at DATETIME2(3) NULL
    )`,
    `CREATE INDEX extractions_user_order ON extractions (user_id, order_at, id)
      INCLUDE (state, page_full, oldest_played_at, newest_played_at, gap_settled_at)`,
    `CREATE INDEX extractions_requested ON extractions (requested_at DESC, id DESC)`,
    `CREATE INDEX extractions_user_requested ON extractions (user_id, requested_at DESC, id DESC)`,
    `CREATE INDEX extractions_open ON extractions (requested_at)
      WHERE state IN ('pending', 'validating', 'loading')`,
    `CREATE TABLE artists (
      uri ${URI} NOT NULL CONSTRAINT pk_artists PRIMARY KEY,
      id ${SPOTIFY_ID} NULL,
      name NVARCHAR(1000) NOT NULL,
      updated_at DATETIME2(3) NOT NULL CONSTRAINT df_artists_updated_at DEFAULT SYSUTCDATETIME()
    )`,
    `CREATE TABLE albums (
      uri ${URI} NOT NULL CONSTRAINT pk_albums PRIMARY KEY,
      id ${SPOTIFY_ID} NULL,
      name NVARCHAR(1000) NOT NULL,
      album_type NVARCHAR(50) NULL,
      release_date NVARCHAR(20) NULL,
      updated_at DATETIME2(3) NOT NULL CONSTRAINT df_albums_updated_at DEFAULT SYSUTCDATETIME()
    )`,
    `CREATE TABLE album_artists (
      album_uri ${URI} NOT NULL,
      position INT NOT NULL,
      artist_uri ${URI} NULL,
      artist_id ${SPOTIFY_ID} NULL,
      artist_name NVARCHAR(1000) NOT NULL,
      CONSTRAINT pk_album_artists PRIMARY KEY (album_uri, position)
    )`,
    `CREATE TABLE tracks (
      uri ${URI} NOT NULL CONSTRAINT pk_tracks PRIMARY KEY,
      id ${SPOTIFY_ID} NULL,
      name NVARCHAR(1000) NOT NULL,
      duration_ms INT NOT NULL,
      explicit BIT NOT NULL,
      isrc NVARCHAR(50) NULL,
      is_local BIT NOT NULL,
      disc_number INT NULL,
      track_number INT NULL,
      album_uri ${URI} NULL,
      local_album NVARCHAR(MAX) NULL,
      updated_at DATETIME2(3) NOT NULL CONSTRAINT df_tracks_updated_at DEFAULT SYSUTCDATETIME()
    )`,
    `CREATE TABLE track_artists (
      track_uri ${URI} NOT NULL,
      position INT NOT NULL,
      artist_uri ${URI} NULL,
      artist_id ${SPOTIFY_ID} NULL,
      artist_name NVARCHAR(1000) NOT NULL,
      CONSTRAINT pk_track_artists PRIMARY KEY (track_uri, position)
    )`,
    // the natural key is the primary key (nonclustered: 1,064 bytes); rows are clustered by (user, time) for ranges
    `CREATE TABLE plays (
      user_id ${USER_ID} NOT NULL,
      track_uri ${URI} NOT NULL,
      played_at DATETIME2(3) NOT NULL,
      context_type NVARCHAR(50) NULL,
      context_uri NVARCHAR(1000) NULL,
      extraction_id ${EXTRACTION_ID} NOT NULL,
      loaded_at DATETIME2(3) NOT NULL CONSTRAINT df_plays_loaded_at DEFAULT SYSUTCDATETIME(),
      /* what an import of Spotify's streaming-history exports adds to a play (enriches, never doubles) */
      ms_played INT NULL,
      reason_start NVARCHAR(100) NULL,
      reason_end NVARCHAR(100) NULL,
      shuffle BIT NULL,
      skipped BIT NULL,
      platform NVARCHAR(400) NULL,
      CONSTRAINT pk_plays PRIMARY KEY NONCLUSTERED (user_id, track_uri, played_at)
    )`,
    `CREATE CLUSTERED INDEX plays_user_played_at ON plays (user_id, played_at)`,
    `CREATE TABLE gaps (
      id BIGINT IDENTITY(1, 1) NOT NULL CONSTRAINT pk_gaps PRIMARY KEY,
      user_id ${USER_ID} NOT NULL,
      extraction_id ${EXTRACTION_ID} NOT NULL CONSTRAINT uq_gaps_extraction UNIQUE,
      from_at DATETIME2(3) NOT NULL,
      to_at DATETIME2(3) NOT NULL,
      detected_at DATETIME2(3) NOT NULL CONSTRAINT df_gaps_detected_at DEFAULT SYSUTCDATETIME()
    )`,
    `CREATE INDEX gaps_user ON gaps (user_id, id DESC)`,
    `CREATE TABLE dead_letters (
      id BIGINT IDENTITY(1, 1) NOT NULL CONSTRAINT pk_dead_letters PRIMARY KEY,
      user_id ${USER_ID} NOT NULL,
      extraction_id ${EXTRACTION_ID} NOT NULL,
      stage VARCHAR(20) NOT NULL CONSTRAINT ck_dead_letters_stage CHECK (stage IN ('extractor', 'validator', 'loader')),
      [rule] NVARCHAR(200) ${BIN} NOT NULL,
      field NVARCHAR(1000) NULL,
      message NVARCHAR(MAX) NOT NULL,
      record NVARCHAR(MAX) NULL,
      /* sha256 (hex) of the canonical JSON of the record (shared/play-rules.ts) */
      fingerprint CHAR(64) NOT NULL,
      correction NVARCHAR(MAX) NULL,
      status VARCHAR(20) NOT NULL CONSTRAINT df_dead_letters_status DEFAULT 'open'
        CONSTRAINT ck_dead_letters_status CHECK (status IN ('open', 'replayed', 'resolved')),
      times_seen INT NOT NULL CONSTRAINT df_dead_letters_times_seen DEFAULT 1,
      first_seen_at DATETIME2(3) NOT NULL,
      last_seen_at DATETIME2(3) NOT NULL,
      replayed_at DATETIME2(3) NULL,
      CONSTRAINT uq_dead_letters_record UNIQUE (stage, [rule], user_id, fingerprint)
    )`,
    `CREATE INDEX dead_letters_user ON dead_letters (user_id, id DESC)`,
    `CREATE INDEX dead_letters_last_seen ON dead_letters (last_seen_at)`,
  ],
};

/** The original ETL's table is kept as my_played_tracks_legacy (never dropped); the name becomes a view. */
async function keepLegacyTable(ctx: MigrationContext): Promise<void> {
  const found = await ctx
    .request()
    .query<{ kind: string }>(
      `SELECT RTRIM(type) AS kind FROM sys.objects WHERE name = N'my_played_tracks' AND schema_id = SCHEMA_ID()`,
    );
  const kind = found.recordset[0]?.kind;
  if (kind === undefined) return;
  if (kind === 'V') {
    await ctx.request().batch('DROP VIEW my_played_tracks');
    return;
  }
  if (kind !== 'U') {
    throw new Error(`my_played_tracks exists as an object of type '${kind}': move it away before migrating`);
  }
  const taken = await ctx
    .request()
    .query<{ name: string }>(
      `SELECT name FROM sys.objects WHERE name LIKE N'my[_]played[_]tracks[_]legacy%' AND schema_id = SCHEMA_ID()`,
    );
  const names = new Set(taken.recordset.map((r) => r.name));
  let target = 'my_played_tracks_legacy';
  for (let i = 2; names.has(target); i++) target = `my_played_tracks_legacy_${i}`;
  await ctx
    .request()
    .input('to', target)
    .query(
      `DECLARE @from NVARCHAR(300) = CONCAT(QUOTENAME(SCHEMA_NAME()), N'.my_played_tracks');
       EXEC sp_rename @objname = @from, @newname = @to, @objtype = 'OBJECT';`,
    );
  ctx.logger.warn(
    { table: 'my_played_tracks', renamedTo: target },
    `the original ETL table my_played_tracks was renamed ${target} (kept, not dropped); my_played_tracks is now a view`,
  );
}

/**
 * The original ETL's columns: primary_key (played_at as ISO-8601 UTC with milliseconds, '#2', '#3' for the later
 * tracks at one instant of one user, by track URI), song_name, artist_name (first artist), timestamp (UTC date).
 * CONVERT style 126 on CHAR(19) gives yyyy-mm-ddThh:mi:ss whatever the fraction; milliseconds are added by hand.
 */
const view: Migration = {
  version: '0003',
  name: 'my_played_tracks view (legacy table renamed)',
  steps: [
    keepLegacyTable,
    `CREATE VIEW my_played_tracks AS
    SELECT
      CONCAT(CONVERT(CHAR(19), p.played_at, 126), '.', RIGHT(CONCAT('00', DATEPART(MILLISECOND, p.played_at)), 3), 'Z',
        CASE WHEN p.n > 1 THEN CONCAT('#', p.n) ELSE '' END) AS primary_key,
      t.name AS song_name,
      (SELECT TOP (1) ta.artist_name FROM track_artists ta WHERE ta.track_uri = p.track_uri ORDER BY ta.position)
        AS artist_name,
      CONVERT(CHAR(10), p.played_at, 23) AS [timestamp],
      p.user_id,
      p.played_at,
      p.track_uri
    FROM (
      SELECT pl.user_id, pl.track_uri, pl.played_at,
        ROW_NUMBER() OVER (PARTITION BY pl.user_id, pl.played_at ORDER BY pl.track_uri) AS n
      FROM plays pl
    ) AS p
    JOIN tracks t ON t.uri = p.track_uri`,
  ],
};

/**
 * evaluateGaps (extractions.ts): the user's unsettled extractions in order, and the newest play of the user's done
 * extractions before each (read newest first: the first row ordered before the candidate is the answer). The
 * filtered indexes name the base columns of order_at rather than the computed column itself (a filtered index and
 * its predicate are kept clear of computed columns).
 */
const baselineIndex: Migration = {
  version: '0004',
  name: 'gap baseline index',
  steps: [
    `CREATE INDEX extractions_done_baseline ON extractions (user_id, newest_played_at DESC)
      INCLUDE (fetched_at, requested_at, id) WHERE state = 'done' AND newest_played_at IS NOT NULL`,
    `CREATE INDEX extractions_unsettled ON extractions (user_id, id)
      INCLUDE (fetched_at, requested_at, state, page_full, oldest_played_at) WHERE gap_settled_at IS NULL`,
  ],
};

export const MIGRATIONS: readonly Migration[] = [core, pipeline, view, baselineIndex];
