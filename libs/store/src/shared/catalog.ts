// A LoadJob flattened into the rows of each table, deduplicated by key, sorted by key (so that two loaders lock
// shared catalog rows in one order). Adapter-neutral: both adapters send these sets to the database at once.
import type { LoadJob, NormalizedAlbum, NormalizedArtist } from '@playledger/common';

export interface ArtistRow {
  uri: string;
  id: string | null;
  name: string;
}
export interface AlbumRow {
  uri: string;
  id: string | null;
  name: string;
  album_type: string | null;
  release_date: string | null;
}
/** an artist of a track or album, in order; artist_uri is null for a local file's artist */
export interface CreditRow {
  owner_uri: string;
  position: number;
  artist_uri: string | null;
  artist_id: string | null;
  artist_name: string;
}
export interface TrackRow {
  uri: string;
  id: string | null;
  name: string;
  duration_ms: number;
  explicit: boolean;
  isrc: string | null;
  is_local: boolean;
  disc_number: number | null;
  track_number: number | null;
  album_uri: string | null;
  /** the whole album when it has no URI (a local file's album), so nothing is lost */
  local_album: NormalizedAlbum | null;
  artist_count: number;
}
export interface PlayRow {
  track_uri: string;
  played_at: string;
  context_type: string | null;
  context_uri: string | null;
}
export interface CatalogRows {
  artists: ArtistRow[];
  albums: AlbumRow[];
  albumArtists: CreditRow[];
  albumArtistCounts: { uri: string; artist_count: number }[];
  tracks: TrackRow[];
  trackArtists: CreditRow[];
  plays: PlayRow[];
}

/**
 * The batch's rows. `leaveOut` names tracks whose catalog rows (the track, its album, their artists and credits) are
 * known to be stored as they are (catalog-cache.ts): only their plays are kept.
 */
export function catalogRows(job: LoadJob, leaveOut: (trackUri: string) => boolean = () => false): CatalogRows {
  const artists = new Map<string, ArtistRow>();
  const albums = new Map<string, AlbumRow>();
  const albumArtists = new Map<string, CreditRow>();
  const albumArtistCounts = new Map<string, number>();
  const tracks = new Map<string, TrackRow>();
  const trackArtists = new Map<string, CreditRow>();
  const plays = new Map<string, PlayRow>();

  const addArtist = (a: NormalizedArtist): void => {
    if (a.uri) artists.set(a.uri, { uri: a.uri, id: a.id, name: a.name });
  };
  const credits = (target: Map<string, CreditRow>, owner: string, list: NormalizedArtist[]): void => {
    list.forEach((a, position) => {
      addArtist(a);
      target.set(`${owner}\u0000${position}`, {
        owner_uri: owner,
        position,
        artist_uri: a.uri,
        artist_id: a.id,
        artist_name: a.name,
      });
    });
  };

  for (const play of job.plays) {
    const t = play.track;
    const playedAt = new Date(play.playedAt).toISOString();
    plays.set(`${t.uri}\u0000${playedAt}`, {
      track_uri: t.uri,
      played_at: playedAt,
      context_type: play.context?.type ?? null,
      context_uri: play.context?.uri ?? null,
    });
    if (leaveOut(t.uri)) continue;
    const album = t.album;
    if (album?.uri) {
      albums.set(album.uri, {
        uri: album.uri,
        id: album.id,
        name: album.name,
        album_type: album.albumType,
        release_date: album.releaseDate,
      });
      albumArtistCounts.set(album.uri, album.artists.length);
      credits(albumArtists, album.uri, album.artists);
    }
    tracks.set(t.uri, {
      uri: t.uri,
      id: t.id,
      name: t.name,
      duration_ms: t.durationMs,
      explicit: t.explicit,
      isrc: t.isrc,
      is_local: t.isLocal,
      disc_number: t.discNumber,
      track_number: t.trackNumber,
      album_uri: album?.uri ?? null,
      local_album: album && !album.uri ? album : null,
      artist_count: t.artists.length,
    });
    credits(trackArtists, t.uri, t.artists);
  }

  const sorted = <T>(m: Map<string, T>): T[] =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    artists: sorted(artists),
    albums: sorted(albums),
    albumArtists: sorted(albumArtists),
    albumArtistCounts: [...albumArtistCounts.entries()].sort().map(([uri, artist_count]) => ({ uri, artist_count })),
    tracks: sorted(tracks),
    trackArtists: sorted(trackArtists),
    plays: sorted(plays),
  };
}
