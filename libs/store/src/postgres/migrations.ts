// The PostgreSQL schema, as versioned migrations applied in order by `migrate` (migrate.ts). Append only: never edit a
// migration that has shipped, add a new one. Each runs in its own transaction with its version recorded.
import type { PoolClient } from 'pg';
import type { Logger } from '@playledger/common';

export interface Migration {
  /** sortable and unique: '0001', '0002', ... */
  version: string;
  name: string;
  /** plain SQL, or a function for migrations that must look before they act */
  up: string | ((client: PoolClient, logger: Logger) => Promise<void>);
}

const core = `
CREATE TABLE users (
  user_id       text PRIMARY KEY,
  spotify_id    text NOT NULL,
  account_id    text,
  display_name  text,
  status        text NOT NULL CHECK (status IN ('active', 'paused', 'needs_reauth')),
  status_reason text,
  authorized_at timestamptz(3) NOT NULL,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX users_authorized_at ON users (authorized_at, user_id);

CREATE TABLE user_credentials (
  user_id    text PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
  key_id     text NOT NULL,
  ciphertext text NOT NULL,
  scope      text NOT NULL,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
`;

const pipeline = `
CREATE TABLE extractions (
  id               text PRIMARY KEY,
  user_id          text NOT NULL,
  trigger          text NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
  state            text NOT NULL CHECK (state IN ('pending', 'validating', 'loading', 'done', 'no_new_plays', 'failed')),
  reason           text,
  requested_at     timestamptz(3) NOT NULL,
  fetched_at       timestamptz(3),
  finished_at      timestamptz(3),
  fetched          integer,
  new_plays        integer,
  known_plays      integer,
  dead_lettered    integer,
  page_full        boolean,
  oldest_played_at timestamptz(3),
  newest_played_at timestamptz(3),
  gap_id           bigint,
  -- gap evaluation (shared/gaps.ts): extractions are taken in order of order_at; settled ones are never looked at again
  order_at         timestamptz(3) GENERATED ALWAYS AS (coalesce(fetched_at, requested_at)) STORED,
  gap_settled_at   timestamptz(3)
);
CREATE INDEX extractions_user_order ON extractions (user_id, order_at, id);
CREATE INDEX extractions_requested ON extractions (requested_at DESC, id DESC);
CREATE INDEX extractions_user_requested ON extractions (user_id, requested_at DESC, id DESC);
CREATE INDEX extractions_open ON extractions (requested_at)
  WHERE state NOT IN ('done', 'no_new_plays', 'failed');

CREATE TABLE artists (
  uri        text PRIMARY KEY,
  id         text,
  name       text NOT NULL,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE albums (
  uri          text PRIMARY KEY,
  id           text,
  name         text NOT NULL,
  album_type   text,
  release_date text,
  updated_at   timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE album_artists (
  album_uri   text NOT NULL,
  position    integer NOT NULL,
  artist_uri  text,
  artist_id   text,
  artist_name text NOT NULL,
  PRIMARY KEY (album_uri, position)
);

CREATE TABLE tracks (
  uri          text PRIMARY KEY,
  id           text,
  name         text NOT NULL,
  duration_ms  integer NOT NULL,
  explicit     boolean NOT NULL,
  isrc         text,
  is_local     boolean NOT NULL,
  disc_number  integer,
  track_number integer,
  album_uri    text,
  local_album  jsonb,
  updated_at   timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE track_artists (
  track_uri   text NOT NULL,
  position    integer NOT NULL,
  artist_uri  text,
  artist_id   text,
  artist_name text NOT NULL,
  PRIMARY KEY (track_uri, position)
);

CREATE TABLE plays (
  user_id       text NOT NULL,
  track_uri     text NOT NULL,
  played_at     timestamptz(3) NOT NULL,
  context_type  text,
  context_uri   text,
  extraction_id text NOT NULL,
  loaded_at     timestamptz(3) NOT NULL DEFAULT now(),
  -- what an import of Spotify's streaming-history exports adds to a play (enriches, never doubles)
  ms_played     integer,
  reason_start  text,
  reason_end    text,
  shuffle       boolean,
  skipped       boolean,
  platform      text,
  PRIMARY KEY (user_id, track_uri, played_at)
);
CREATE INDEX plays_user_played_at ON plays (user_id, played_at, track_uri);

CREATE TABLE gaps (
  id            bigserial PRIMARY KEY,
  user_id       text NOT NULL,
  extraction_id text NOT NULL UNIQUE,
  from_at       timestamptz(3) NOT NULL,
  to_at         timestamptz(3) NOT NULL,
  detected_at   timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX gaps_user ON gaps (user_id, id DESC);

CREATE TABLE dead_letters (
  id            bigserial PRIMARY KEY,
  user_id       text NOT NULL,
  extraction_id text NOT NULL,
  stage         text NOT NULL CHECK (stage IN ('extractor', 'validator', 'loader')),
  rule          text NOT NULL,
  field         text,
  message       text NOT NULL,
  record        jsonb,
  -- sha256 (hex) of the canonical JSON of the record (shared/play-rules.ts)
  fingerprint   text NOT NULL,
  correction    jsonb,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'resolved')),
  times_seen    integer NOT NULL DEFAULT 1,
  first_seen_at timestamptz(3) NOT NULL,
  last_seen_at  timestamptz(3) NOT NULL,
  replayed_at   timestamptz(3),
  UNIQUE (stage, rule, user_id, fingerprint)
);
CREATE INDEX dead_letters_user ON dead_letters (user_id, id DESC);
CREATE INDEX dead_letters_last_seen ON dead_letters (last_seen_at);
`;

/** The original ETL's table is kept as my_played_tracks_legacy (never dropped); the name becomes a view. */
async function playedTracksView(client: PoolClient, logger: Logger): Promise<void> {
  const legacy = await client.query<{ kind: string }>(
    `SELECT c.relkind AS kind FROM pg_class c
      WHERE c.relname = 'my_played_tracks' AND c.relnamespace = current_schema()::regnamespace`,
  );
  const kind = legacy.rows[0]?.kind;
  if (kind === 'r' || kind === 'p') {
    await client.query('ALTER TABLE my_played_tracks RENAME TO my_played_tracks_legacy');
    logger.warn(
      { table: 'my_played_tracks', renamedTo: 'my_played_tracks_legacy' },
      'the original ETL table my_played_tracks was renamed my_played_tracks_legacy (kept, not dropped); my_played_tracks is now a view',
    );
  } else if (kind === 'v') {
    await client.query('DROP VIEW my_played_tracks');
  } else if (kind !== undefined) {
    throw new Error(`my_played_tracks exists as an object of kind '${kind}': move it away before migrating`);
  }
  await client.query(`
CREATE VIEW my_played_tracks AS
SELECT
  to_char(p.played_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    || CASE WHEN p.n > 1 THEN '#' || p.n ELSE '' END AS primary_key,
  t.name AS song_name,
  (SELECT ta.artist_name FROM track_artists ta WHERE ta.track_uri = p.track_uri ORDER BY ta.position LIMIT 1)
    AS artist_name,
  to_char(p.played_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "timestamp",
  p.user_id,
  p.played_at,
  p.track_uri
FROM (
  SELECT plays.*, row_number() OVER (PARTITION BY user_id, played_at ORDER BY track_uri) AS n FROM plays
) p
JOIN tracks t ON t.uri = p.track_uri`);
}

export const MIGRATIONS: readonly Migration[] = [
  { version: '0001', name: 'users and credentials', up: core },
  { version: '0002', name: 'extractions, catalog, plays, gaps, dead letters', up: pipeline },
  { version: '0003', name: 'my_played_tracks view (legacy table renamed)', up: playedTracksView },
  {
    version: '0004',
    name: 'gap baseline index',
    // evaluateGaps (extractions.ts): the user's unsettled extractions in order, and the newest play of the user's
    // done extractions before each (read newest first: the first row ordered before the candidate is the answer)
    up: `CREATE INDEX extractions_done_baseline ON extractions (user_id, newest_played_at DESC) INCLUDE (order_at, id)
           WHERE state = 'done' AND newest_played_at IS NOT NULL;
         CREATE INDEX extractions_unsettled ON extractions (user_id, order_at, id) WHERE gap_settled_at IS NULL`,
  },
];
