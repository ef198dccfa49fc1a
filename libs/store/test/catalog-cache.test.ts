// The catalog cache on its own: what a batch still sends once units are remembered, and its bound.
import { describe, expect, it } from 'vitest';
import type { LoadJob, NormalizedPlay } from '@playledger/common';
import { catalogRows, type CatalogRows } from '../src/shared/catalog.ts';
import { CatalogCache, catalogUnits } from '../src/shared/catalog-cache.ts';

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

function rows(plays: NormalizedPlay[]): CatalogRows {
  const job: LoadJob = {
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
  return catalogRows(job);
}

function sent(cache: CatalogCache, r: CatalogRows): Record<string, number> {
  const out = cache.omitKnown(r, catalogUnits(r));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, (v as unknown[]).length]));
}

const T1 = '2026-01-01T10:00:00.000Z';
const T2 = '2026-01-01T11:00:00.000Z';

describe('CatalogCache', () => {
  it('sends everything until a batch is remembered, then only the plays of a batch that repeats it', () => {
    const cache = new CatalogCache(100);
    const first = rows([play(1, T1), play(2, T1)]);
    const all = { artists: 2, albums: 2, albumArtists: 2, albumArtistCounts: 2, tracks: 2, trackArtists: 2, plays: 2 };
    expect(sent(cache, first)).toEqual(all);
    cache.remember(catalogUnits(first));
    expect(sent(cache, rows([play(1, T2), play(2, T2)]))).toEqual({
      artists: 0,
      albums: 0,
      albumArtists: 0,
      albumArtistCounts: 0,
      tracks: 0,
      trackArtists: 0,
      plays: 2,
    });
  });

  it('a changed unit is sent whole, with its credits; unchanged ones are not', () => {
    const cache = new CatalogCache(100);
    cache.remember(catalogUnits(rows([play(1, T1), play(2, T1)])));
    // artist 1 renamed: the artist, and the album and track that credit it, change; track 2 does not
    const out = cache.omitKnown(
      rows([play(1, T2, 'Artist One'), play(2, T2)]),
      catalogUnits(rows([play(1, T2, 'Artist One'), play(2, T2)])),
    );
    expect(out.artists.map((a) => a.name)).toEqual(['Artist One']);
    expect(out.albums.map((a) => a.uri)).toEqual(['spotify:album:b1']);
    expect(out.albumArtists.map((c) => c.artist_name)).toEqual(['Artist One']);
    expect(out.albumArtistCounts).toEqual([{ uri: 'spotify:album:b1', artist_count: 1 }]);
    expect(out.tracks.map((t) => t.uri)).toEqual(['spotify:track:t1']);
    expect(out.trackArtists.map((c) => c.owner_uri)).toEqual(['spotify:track:t1']);
    expect(out.plays).toHaveLength(2);
  });

  it('keeps at most its capacity, the least recently used going first; 0 remembers nothing', () => {
    const cache = new CatalogCache(6); // one play = 3 units (artist, album, track)
    cache.remember(catalogUnits(rows([play(1, T1)])));
    cache.remember(catalogUnits(rows([play(2, T1)])));
    cache.remember(catalogUnits(rows([play(1, T2)]))); // 1 used again: 2 is now the oldest
    cache.remember(catalogUnits(rows([play(3, T1)])));
    expect(cache.size).toBe(6);
    expect(sent(cache, rows([play(1, T2)])).tracks).toBe(0);
    expect(sent(cache, rows([play(3, T2)])).tracks).toBe(0);
    expect(sent(cache, rows([play(2, T2)])).tracks).toBe(1);

    const off = new CatalogCache(0);
    off.remember(catalogUnits(rows([play(1, T1)])));
    expect(off.size).toBe(0);
    expect(sent(off, rows([play(1, T2)])).tracks).toBe(1);
  });
});
