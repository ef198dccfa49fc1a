// Rows as SQL Server returns them through tedious (DATETIME2 as Date in UTC, BIT as boolean, BIGINT as string,
// NVARCHAR(MAX) JSON as text), and their mapping to the Store's types. Same shapes as the PostgreSQL adapter's.
import type { DeadLetterStage, ExtractionTrigger, NormalizedAlbum, NormalizedArtist } from '@playledger/common';
import type { DeadLetter, Extraction, ExtractionState, Gap, StoredPlay, User, UserStatus } from '../types.ts';

export function parseJson<T>(text: string | null | undefined): T | null {
  if (text === null || text === undefined) return null;
  return JSON.parse(text) as T;
}

/** BIGINT ids come back as strings already; this keeps them so whatever the driver does with small numbers. */
function idText(v: string | number | null): string | null {
  return v === null ? null : String(v);
}

export interface UserRow {
  user_id: string;
  spotify_id: string;
  account_id: string | null;
  display_name: string | null;
  status: UserStatus;
  status_reason: string | null;
  authorized_at: Date;
  created_at: Date;
  updated_at: Date;
}

export function toUser(r: UserRow): User {
  return {
    userId: r.user_id,
    spotifyId: r.spotify_id,
    accountId: r.account_id,
    displayName: r.display_name,
    status: r.status,
    statusReason: r.status_reason,
    authorizedAt: r.authorized_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export const EXTRACTION_COLUMNS = `id, user_id, [trigger], state, reason, requested_at, fetched_at, finished_at, fetched,
  new_plays, known_plays, dead_lettered, page_full, oldest_played_at, newest_played_at, gap_id`;

export interface ExtractionRow {
  id: string;
  user_id: string;
  trigger: ExtractionTrigger;
  state: ExtractionState;
  reason: string | null;
  requested_at: Date;
  fetched_at: Date | null;
  finished_at: Date | null;
  fetched: number | null;
  new_plays: number | null;
  known_plays: number | null;
  dead_lettered: number | null;
  page_full: boolean | null;
  oldest_played_at: Date | null;
  newest_played_at: Date | null;
  gap_id: string | number | null;
}

export function toExtraction(r: ExtractionRow): Extraction {
  return {
    id: r.id,
    userId: r.user_id,
    trigger: r.trigger,
    state: r.state,
    reason: r.reason,
    requestedAt: r.requested_at,
    fetchedAt: r.fetched_at,
    finishedAt: r.finished_at,
    fetched: r.fetched,
    newPlays: r.new_plays,
    knownPlays: r.known_plays,
    deadLettered: r.dead_lettered,
    pageFull: r.page_full,
    oldestPlayedAt: r.oldest_played_at,
    newestPlayedAt: r.newest_played_at,
    gapId: idText(r.gap_id),
  };
}

export interface GapRow {
  id: string | number;
  user_id: string;
  extraction_id: string;
  from_at: Date;
  to_at: Date;
  detected_at: Date;
}

export function toGap(r: GapRow): Gap {
  return {
    id: String(r.id),
    userId: r.user_id,
    extractionId: r.extraction_id,
    from: r.from_at,
    to: r.to_at,
    detectedAt: r.detected_at,
  };
}

export const DEAD_LETTER_COLUMNS = `id, user_id, extraction_id, stage, [rule], field, message, record, correction, status,
  times_seen, first_seen_at, last_seen_at, replayed_at`;

export interface DeadLetterRow {
  id: string | number;
  user_id: string;
  extraction_id: string;
  stage: DeadLetterStage;
  rule: string;
  field: string | null;
  message: string;
  record: string | null;
  correction: string | null;
  status: DeadLetter['status'];
  times_seen: number;
  first_seen_at: Date;
  last_seen_at: Date;
  replayed_at: Date | null;
}

export function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: String(r.id),
    userId: r.user_id,
    extractionId: r.extraction_id,
    stage: r.stage,
    rule: r.rule,
    field: r.field,
    message: r.message,
    record: parseJson<unknown>(r.record),
    correction: parseJson<unknown>(r.correction),
    status: r.status,
    timesSeen: r.times_seen,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    replayedAt: r.replayed_at,
  };
}

/** One play with its track, album and artists (see PLAY_SELECT in plays.ts). */
export interface PlayRow {
  user_id: string;
  track_uri: string;
  played_at: Date;
  context_type: string | null;
  context_uri: string | null;
  extraction_id: string;
  loaded_at: Date;
  track_id: string | null;
  track_name: string;
  duration_ms: number;
  explicit: boolean;
  isrc: string | null;
  is_local: boolean;
  disc_number: number | null;
  track_number: number | null;
  album_uri: string | null;
  local_album: string | null;
  album_id: string | null;
  album_name: string | null;
  album_type: string | null;
  release_date: string | null;
  /** FOR JSON PATH text: [{"uri":..,"id":..,"name":..}] in position order, null when none */
  album_artists: string | null;
  track_artists: string | null;
}

export function toStoredPlay(r: PlayRow): StoredPlay {
  let album: NormalizedAlbum | null = parseJson<NormalizedAlbum>(r.local_album);
  if (r.album_uri !== null) {
    album = {
      uri: r.album_uri,
      id: r.album_id,
      name: r.album_name ?? '',
      albumType: r.album_type,
      releaseDate: r.release_date,
      artists: artists(r.album_artists),
    };
  }
  return {
    userId: r.user_id,
    extractionId: r.extraction_id,
    loadedAt: r.loaded_at,
    playedAt: r.played_at.toISOString(),
    context: r.context_type !== null && r.context_uri !== null ? { type: r.context_type, uri: r.context_uri } : null,
    track: {
      uri: r.track_uri,
      id: r.track_id,
      name: r.track_name,
      durationMs: r.duration_ms,
      explicit: r.explicit,
      isrc: r.isrc,
      isLocal: r.is_local,
      discNumber: r.disc_number,
      trackNumber: r.track_number,
      album,
      artists: artists(r.track_artists),
    },
  };
}

/** FOR JSON PATH with INCLUDE_NULL_VALUES gives every key; keep exactly uri, id, name in that order. */
function artists(json: string | null): NormalizedArtist[] {
  const list = parseJson<{ uri?: string | null; id?: string | null; name: string }[]>(json) ?? [];
  return list.map((a) => ({ uri: a.uri ?? null, id: a.id ?? null, name: a.name }));
}
