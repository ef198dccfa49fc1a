// The catalog cache on its own: what a batch still sends once its tracks are remembered, and its bound.
import { describe, expect, it } from 'vitest';
import type { LoadJob, NormalizedPlay } from '@playledger/common';
import { catalogRows, type CatalogRows } from '../src/shared/catalog.ts';
import { CatalogCache } from '../src/shared/catalog-cache.ts';

function play(n: number, playedAt: string, artistName = `Artist ${n}`): NormalizedPlay {
  const artist = { uri: `spotify:artist:a${n}`, id: `a${n}`, name: artistName };
  return {
    playedAt,
    context: null,
    track: {
      uri: `spotify:track:t${n}`,
      id: `t${n}`,
      name: `Song ${n}`,
      durationMs: 200_000,
      explicit: false,
      isrc: null,
      isLocal: false,
      discNumber: 1,
      trackNumber: 1,
      album: {
        uri: `spotify:album:b${n}`,
        id: `b${n}`,
        name: `Album ${n}`,
        albumType: 'album',
        releaseDate: '2020',
        artists: [artist],
      },
      artists: [artist],
    },
  };
}

function job(plays: NormalizedPlay[]): LoadJob {
  return {
    extractionId: 'x',
    userId: 'u',
    fetchedAt: '2026-01-01T00:00:00.000Z',
    plays,
    page: {
      fetched: plays.length,
      full: false,
      oldestPlayedAt: null,
      newestPlayedAt: null,
      deadLettered: 0,
      duplicatesCollapsed: 0,
    },
  };
}

/** what loadBatch would send for `plays`: the number of rows of each part */
function sent(cache: CatalogCache, plays: NormalizedPlay[]): Record<keyof CatalogRows, number> {
  const batch = job(plays);
  const prints = cache.fingerprints(batch);
  const rows = catalogRows(batch, (uri) => cache.has(uri, prints));
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as unknown[]).length])) as Record<
    keyof CatalogRows,
    number
  >;
}

function remember(cache: CatalogCache, plays: NormalizedPlay[]): void {
  cache.remember(cache.fingerprints(job(plays)));
}

const T1 = '2026-01-01T10:00:00.000Z';
const T2 = '2026-01-01T11:00:00.000Z';
const NOTHING = { artists: 0, albums: 0, albumArtists: 0, albumArtistCounts: 0, tracks: 0, trackArtists: 0 };

describe('CatalogCache', () => {
  it('sends everything until a batch is remembered, then only the plays of a batch that repeats its tracks', () => {
    const cache = new CatalogCache(100);
    const first = [play(1, T1), play(2, T1)];
    const all = { artists: 2, albums: 2, albumArtists: 2, albumArtistCounts: 2, tracks: 2, trackArtists: 2, plays: 2 };
    expect(sent(cache, first)).toEqual(all);
    remember(cache, first);
    expect(sent(cache, [play(1, T2), play(2, T2)])).toEqual({ ...NOTHING, plays: 2 });
  });

  it('a track that changed in any detail (here the name of its artist) is sent whole; the unchanged one is not', () => {
    const cache = new CatalogCache(100);
    remember(cache, [play(1, T1), play(2, T1)]);
    const batch = job([play(1, T2, 'Artist One'), play(2, T2)]);
    const prints = cache.fingerprints(batch);
    const rows = catalogRows(batch, (uri) => cache.has(uri, prints));
    expect(rows.artists.map((a) => a.name)).toEqual(['Artist One']);
    expect(rows.albums.map((a) => a.uri)).toEqual(['spotify:album:b1']);
    expect(rows.albumArtists.map((c) => c.artist_name)).toEqual(['Artist One']);
    expect(rows.tracks.map((t) => t.uri)).toEqual(['spotify:track:t1']);
    expect(rows.trackArtists.map((c) => c.artist_name)).toEqual(['Artist One']);
    expect(rows.plays).toHaveLength(2);
  });

  it('keeps at most its capacity, the track remembered or changed longest ago going first; 0 remembers nothing', () => {
    const cache = new CatalogCache(2);
    remember(cache, [play(1, T1)]);
    remember(cache, [play(2, T1)]);
    remember(cache, [play(1, T2, 'Artist One')]); // 1 changed: 2 is now the oldest
    remember(cache, [play(3, T1)]);
    expect(cache.size).toBe(2);
    expect(sent(cache, [play(1, T2, 'Artist One')]).tracks).toBe(0);
    expect(sent(cache, [play(3, T2)]).tracks).toBe(0);
    expect(sent(cache, [play(2, T2)]).tracks).toBe(1);

    const off = new CatalogCache(0);
    remember(off, [play(1, T1)]);
    expect(off.size).toBe(0);
    expect(sent(off, [play(1, T2)]).tracks).toBe(1);
  });
});
