// The listening generator: play k of a user depends only on (seed, user, k, the previous play, the rate).
import { Rng, base62Id } from './random.ts';
import type { Catalog } from './catalog.ts';
import type { Context } from './spotify-types.ts';

export type Quirk = 'short' | 'duplicate-item' | 'same-played-at' | 'no-millis' | 'local' | 'squeezed';

export interface Play {
  index: number;
  /** Index into catalog.tracks. */
  trackIndex: number;
  isLocal: boolean;
  playedAtMs: number;
  /** The exact string served as played_at. */
  playedAt: string;
  durationMs: number;
  playedMs: number;
  context: Context | null;
  /** True when the API lists this play twice (an exact duplicate item). */
  duplicateItem: boolean;
  quirks: Quirk[];
}

/** Everything about a play except where it sits in time. */
export interface PlayDraft {
  trackIndex: number;
  isLocal: boolean;
  durationMs: number;
  playedMs: number;
  /** Idle time before this play started (after the previous one ended), plus jitter. */
  gapMs: number;
  sameInstant: boolean;
  noMillis: boolean;
  duplicateItem: boolean;
  context: Context | null;
}

const BREAK_CHANCE = 0.1;

function contextFor(rng: Rng, seed: string, userId: string, albumUri: string | null): Context | null {
  if (!rng.chance(0.15)) return null;
  const r = rng.next();
  if (r < 0.3 && albumUri) {
    const id = albumUri.split(':')[2] ?? '';
    return {
      type: 'album',
      external_urls: { spotify: `https://open.spotify.com/album/${id}` },
      href: `https://api.spotify.com/v1/albums/${id}`,
      uri: albumUri,
    };
  }
  const type = r < 0.85 ? 'playlist' : 'artist';
  const ctxId = base62Id(`${seed}:${userId}:${type}:${rng.int(0, 5)}`);
  return {
    type,
    external_urls: { spotify: `https://open.spotify.com/${type}/${ctxId}` },
    href: `https://api.spotify.com/v1/${type}s/${ctxId}`,
    uri: `spotify:${type}:${ctxId}`,
  };
}

/** Draws play k of a user. `previousTrack` keeps "two tracks at one instant" two different tracks. */
export function drawPlay(
  catalog: Catalog,
  seed: string,
  userId: string,
  k: number,
  playsPerHour: number,
  previousTrack: number | undefined,
): PlayDraft {
  const rng = new Rng(`${seed}:${userId}:play:${k}`);
  let trackIndex = rng.int(0, catalog.tracks.length - 1);
  const source = catalog.tracks[trackIndex]!;
  const durationMs = source.track.duration_ms;
  const short = rng.chance(0.05);
  const playedMs = short ? rng.int(5_000, 29_000) : durationMs;
  const meanIntervalMs = 3_600_000 / Math.max(0.01, playsPerHour);
  const idleMeanMs = Math.max(0, (meanIntervalMs - catalog.meanDurationMs - 750) / BREAK_CHANCE);
  const idle = rng.chance(BREAK_CHANCE) ? -Math.log(1 - rng.next()) * idleMeanMs : 0;
  const gapMs = Math.round(idle) + rng.int(0, 1500);
  const sameInstant = previousTrack !== undefined && rng.chance(0.015);
  if (sameInstant && trackIndex === previousTrack) trackIndex = (trackIndex + 1) % catalog.tracks.length;
  const noMillis = rng.chance(0.015);
  const duplicateItem = rng.chance(0.02);
  const isLocal = rng.chance(0.01);
  const context = contextFor(rng, seed, userId, isLocal ? null : catalog.tracks[trackIndex]!.track.album.uri);
  return { trackIndex, isLocal, durationMs, playedMs, gapMs, sameInstant, noMillis, duplicateItem, context };
}

/** played_at as Spotify writes it: milliseconds, or none for a whole-second instant marked no-millis. */
export function formatPlayedAt(ms: number, noMillis: boolean): string {
  const iso = new Date(ms).toISOString();
  return noMillis ? `${iso.slice(0, 19)}Z` : iso;
}

/** Places a draft after the previous play's end; `endMs` forces the end (listen bursts). */
export function placePlay(draft: PlayDraft, index: number, previousEndMs: number, endMs?: number): Play {
  const quirks: Quirk[] = [];
  let end: number;
  if (endMs !== undefined) end = endMs;
  else if (draft.sameInstant) end = previousEndMs;
  else end = previousEndMs + draft.gapMs + draft.playedMs;
  if (draft.sameInstant && endMs === undefined) quirks.push('same-played-at');
  let noMillis = false;
  if (draft.noMillis && !(draft.sameInstant && endMs === undefined)) {
    const floored = Math.floor(end / 1000) * 1000;
    if (floored > previousEndMs) {
      end = floored;
      noMillis = true;
      quirks.push('no-millis');
    }
  }
  if (draft.playedMs < draft.durationMs) quirks.push('short');
  if (draft.duplicateItem) quirks.push('duplicate-item');
  if (draft.isLocal) quirks.push('local');
  return {
    index,
    trackIndex: draft.trackIndex,
    isLocal: draft.isLocal,
    playedAtMs: end,
    playedAt: formatPlayedAt(end, noMillis),
    durationMs: draft.durationMs,
    playedMs: draft.playedMs,
    context: draft.isLocal ? null : draft.context,
    duplicateItem: draft.duplicateItem,
    quirks,
  };
}
