// A deterministic music catalog derived from the seed: artists, albums and tracks shaped like Spotify's objects.
import { Rng, base62Id, hexId } from './random.ts';
import type { Album, Image, SimplifiedArtist, Track } from './spotify-types.ts';

const API = 'https://api.spotify.com/v1';
const OPEN = 'https://open.spotify.com';
const MARKETS = ['AD', 'AR', 'AT', 'AU', 'BE', 'BR', 'CA', 'CH', 'DE', 'DK', 'ES', 'FI', 'FR', 'GB', 'IE', 'IT', 'JP'];
const MORE_MARKETS = ['MX', 'NL', 'NO', 'NZ', 'PL', 'PT', 'SE', 'US', 'XK', 'ZA'];

export interface CatalogTrack {
  track: Track;
  /** Album and artist names, used to build local-file URIs and the ledger. */
  albumName: string;
  artistNames: string[];
}

export interface Catalog {
  tracks: CatalogTrack[];
  meanDurationMs: number;
}

function artist(seed: string, n: number): SimplifiedArtist {
  const id = base62Id(`${seed}:artist:${n}`);
  return {
    external_urls: { spotify: `${OPEN}/artist/${id}` },
    href: `${API}/artists/${id}`,
    id,
    name: `Artist ${n}`,
    type: 'artist',
    uri: `spotify:artist:${id}`,
  };
}

function images(key: string): Image[] {
  return [640, 300, 64].map((size) => ({
    height: size,
    url: `https://i.scdn.co/image/ab67616d0000b273${hexId(`${key}:${size}`, 24)}`,
    width: size,
  }));
}

function releaseDate(rng: Rng): { release_date: string; release_date_precision: string } {
  const year = rng.int(1965, 2026);
  const month = String(rng.int(1, 12)).padStart(2, '0');
  const day = String(rng.int(1, 28)).padStart(2, '0');
  const r = rng.next();
  if (r < 0.08) return { release_date: String(year), release_date_precision: 'year' };
  if (r < 0.12) return { release_date: `${year}-${month}`, release_date_precision: 'month' };
  return { release_date: `${year}-${month}-${day}`, release_date_precision: 'day' };
}

function markets(rng: Rng): string[] {
  return rng.chance(0.8) ? [...MARKETS, ...MORE_MARKETS] : MARKETS.filter(() => rng.chance(0.7));
}

/** Builds the catalog for a seed: ~60 artists, 80 albums, several hundred tracks. */
export function buildCatalog(seed: string): Catalog {
  const rng = new Rng(`${seed}:catalog`);
  const artists = Array.from({ length: 60 }, (_, i) => artist(seed, i + 1));
  const tracks: CatalogTrack[] = [];
  let trackNo = 0;
  for (let a = 1; a <= 80; a++) {
    const kind = rng.next();
    const albumType = kind < 0.3 ? 'single' : kind < 0.9 ? 'album' : 'compilation';
    const total = albumType === 'single' ? rng.int(1, 3) : rng.int(6, 14);
    const mainArtist = rng.int(0, artists.length - 1);
    const albumArtists = [artists[mainArtist]!];
    if (rng.chance(0.2)) albumArtists.push(artists[(mainArtist + rng.int(1, 20)) % artists.length]!);
    const albumId = base62Id(`${seed}:album:${a}`);
    const { release_date, release_date_precision } = releaseDate(rng);
    const album: Album = {
      album_type: albumType,
      artists: albumArtists,
      available_markets: markets(rng),
      external_urls: { spotify: `${OPEN}/album/${albumId}` },
      href: `${API}/albums/${albumId}`,
      id: albumId,
      images: images(`${seed}:album:${a}`),
      name: `Album ${a}`,
      release_date,
      release_date_precision,
      total_tracks: total,
      type: 'album',
      uri: `spotify:album:${albumId}`,
    };
    const year = release_date.slice(2, 4);
    const registrant = base62Id(`${seed}:isrc:${a}`, 3).toUpperCase();
    for (let t = 1; t <= total; t++) {
      trackNo++;
      const trackArtists = [...albumArtists];
      const features = rng.chance(0.25) ? rng.int(1, 2) : 0;
      for (let f = 0; f < features; f++) {
        const extra = artists[rng.int(0, artists.length - 1)]!;
        if (!trackArtists.includes(extra)) trackArtists.push(extra);
      }
      const id = base62Id(`${seed}:track:${trackNo}`);
      const duration = rng.chance(0.1) ? rng.int(60_000, 600_000) : rng.int(140_000, 280_000);
      const track: Track = {
        album,
        artists: trackArtists,
        available_markets: album.available_markets ?? [],
        disc_number: 1,
        duration_ms: duration,
        explicit: rng.chance(0.2),
        external_ids: { isrc: `QZ${registrant}${year}${String(rng.int(0, 99999)).padStart(5, '0')}` },
        external_urls: { spotify: `${OPEN}/track/${id}` },
        href: `${API}/tracks/${id}`,
        id,
        is_local: false,
        name: `Track ${trackNo}`,
        popularity: rng.int(0, 100),
        preview_url: rng.chance(0.2)
          ? `https://p.scdn.co/mp3-preview/${hexId(`${seed}:preview:${trackNo}`, 40)}`
          : null,
        track_number: t,
        type: 'track',
        uri: `spotify:track:${id}`,
      };
      tracks.push({ track, albumName: album.name, artistNames: trackArtists.map((x) => x.name) });
    }
  }
  const meanDurationMs = tracks.reduce((sum, t) => sum + t.track.duration_ms, 0) / tracks.length;
  return { tracks, meanDurationMs };
}

function localPart(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

/** The same song as a local file: is_local true, null ids, a spotify:local URI (the shape of playlist local tracks). */
export function localTrack(source: CatalogTrack): Track {
  const t = source.track;
  const seconds = Math.round(t.duration_ms / 1000);
  const artistName = source.artistNames[0] ?? '';
  return {
    album: {
      album_type: null,
      artists: [],
      available_markets: [],
      external_urls: {},
      href: null,
      id: null,
      images: [],
      name: source.albumName,
      release_date: null,
      release_date_precision: null,
      type: 'album',
      uri: null,
    },
    artists: [{ external_urls: {}, href: null, id: null, name: artistName, type: 'artist', uri: null }],
    available_markets: [],
    disc_number: 0,
    duration_ms: t.duration_ms,
    explicit: false,
    external_ids: {},
    external_urls: {},
    href: null,
    id: null,
    is_local: true,
    name: t.name,
    popularity: 0,
    preview_url: null,
    track_number: 0,
    type: 'track',
    uri: `spotify:local:${localPart(artistName)}:${localPart(source.albumName)}:${localPart(t.name)}:${seconds}`,
  };
}

/** A copy without the fields removed for development-mode apps (FACTS 16, 31). */
export function forDevMode(track: Track): Track {
  const { available_markets: _m, popularity: _p, ...rest } = track;
  const { available_markets: _am, ...album } = track.album;
  return { ...rest, album };
}
