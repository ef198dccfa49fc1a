// What the extractor reads from a raw recently-played page before publishing it. Items stay unchecked here
// (the validator checks them); the extractor only needs each item's play key, and it slims the items.
import type { PlayKey } from '@playledger/store';

/**
 * Drops fields nothing downstream reads, to keep Redis small: `available_markets` of the track and of its album
 * (about 180 country codes each, most of a raw item's size; deprecated in Spotify's 2026 spec). Everything else is
 * passed on as Spotify sent it, so the validator sees the real record.
 */
export function slimItem(item: unknown): unknown {
  if (!isObject(item) || !isObject(item.track)) return item;
  const { available_markets: _trackMarkets, ...track } = item.track;
  if (isObject(track.album)) {
    const { available_markets: _albumMarkets, ...album } = track.album;
    track.album = album;
  }
  return { ...item, track };
}

/** The play key of an item, or null when the item has no usable track URI or played_at (the validator rejects it). */
export function playKeyOf(item: unknown): PlayKey | null {
  if (!isObject(item) || !isObject(item.track)) return null;
  const { uri } = item.track;
  const playedAt = item.played_at;
  if (typeof uri !== 'string' || uri === '' || typeof playedAt !== 'string') return null;
  const time = Date.parse(playedAt);
  if (!Number.isFinite(time)) return null;
  return { trackUri: uri, playedAt: new Date(time) };
}

export interface PageSummary {
  keys: PlayKey[];
  /** items without a usable key: they are not stored and cannot be, so the page is published for the validator */
  unkeyed: number;
  oldestPlayedAt: Date | null;
  newestPlayedAt: Date | null;
}

export function summarizePage(items: readonly unknown[]): PageSummary {
  const keys: PlayKey[] = [];
  let unkeyed = 0;
  let oldest: number | null = null;
  let newest: number | null = null;
  for (const item of items) {
    const key = playKeyOf(item);
    if (!key) {
      unkeyed += 1;
      continue;
    }
    keys.push(key);
    const t = key.playedAt.getTime();
    if (oldest === null || t < oldest) oldest = t;
    if (newest === null || t > newest) newest = t;
  }
  return {
    keys,
    unkeyed,
    oldestPlayedAt: oldest === null ? null : new Date(oldest),
    newestPlayedAt: newest === null ? null : new Date(newest),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
