// Items shaped like Spotify's, for the validator's tests.
import { readFileSync } from 'node:fs';
import type { RawPageJob } from '@playledger/common';
import { PAGES_DIR } from '../../../test/support/shared.ts';

export { PAGES_DIR };

export function readPage(name: string): { items: unknown[]; limit: number } {
  return JSON.parse(readFileSync(`${PAGES_DIR}/${name}`, 'utf8')) as { items: unknown[]; limit: number };
}

export function artist(n: number) {
  return {
    external_urls: { spotify: `https://open.spotify.com/artist/a${n}` },
    href: `https://api.spotify.com/v1/artists/a${n}`,
    id: `a${n}`,
    name: `Artist ${n}`,
    type: 'artist',
    uri: `spotify:artist:a${n}`,
  };
}

export function trackItem(n: number, playedAt: string, overrides: Record<string, unknown> = {}) {
  return {
    track: {
      album: {
        album_type: 'album',
        artists: [artist(1)],
        external_urls: { spotify: `https://open.spotify.com/album/al${n}` },
        href: `https://api.spotify.com/v1/albums/al${n}`,
        id: `al${n}`,
        images: [{ height: 64, url: `https://i.scdn.co/image/${n}`, width: 64 }],
        name: `Album ${n}`,
        release_date: '2024-01-02',
        release_date_precision: 'day',
        total_tracks: 10,
        type: 'album',
        uri: `spotify:album:al${n}`,
      },
      artists: [artist(1), artist(2)],
      disc_number: 1,
      duration_ms: 200_000 + n,
      explicit: false,
      external_ids: { isrc: `ISRC${n}` },
      external_urls: { spotify: `https://open.spotify.com/track/t${n}` },
      href: `https://api.spotify.com/v1/tracks/t${n}`,
      id: `t${n}`,
      is_local: false,
      name: `Track ${n}`,
      popularity: 50,
      preview_url: null,
      track_number: n,
      type: 'track',
      uri: `spotify:track:t${n}`,
      ...overrides,
    },
    played_at: playedAt,
    context: null,
  };
}

export const localFileItem = (playedAt: string) => ({
  track: {
    album: {
      album_type: null,
      artists: [],
      available_markets: [],
      external_urls: {},
      href: null,
      id: null,
      images: [],
      name: 'My Album',
      release_date: null,
      release_date_precision: null,
      type: 'album',
      uri: null,
    },
    artists: [{ external_urls: {}, href: null, id: null, name: 'Home Band', type: 'artist', uri: null }],
    available_markets: [],
    disc_number: 0,
    duration_ms: 181_000,
    explicit: false,
    external_ids: {},
    external_urls: {},
    href: null,
    id: null,
    is_local: true,
    name: 'Demo Take',
    popularity: 0,
    preview_url: null,
    track_number: 0,
    type: 'track',
    uri: 'spotify:local:Home+Band:My+Album:Demo+Take:181',
  },
  played_at: playedAt,
  context: null,
});

export function rawJob(items: unknown[], overrides: Partial<RawPageJob> = {}): RawPageJob {
  return {
    extractionId: 'ext-1',
    userId: 'user-1',
    fetchedAt: '2026-06-06T00:00:00.000Z',
    items,
    limit: 50,
    ...overrides,
  };
}
