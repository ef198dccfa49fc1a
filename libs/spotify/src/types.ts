// Static types of the as-lived responses (schemas.ts validates every response against the as-lived schemas, which
// are the spec schemas with live-differences.ts applied; these interfaces say the same in TypeScript).

export interface ExternalUrls {
  spotify?: string;
}

export interface Image {
  url: string;
  height: number | null;
  width: number | null;
}

export interface SimplifiedArtist {
  external_urls: ExternalUrls;
  href: string;
  id: string;
  name: string;
  type: 'artist';
  uri: string;
}

export interface SimplifiedAlbum {
  album_type: 'album' | 'single' | 'compilation';
  total_tracks: number;
  /** removed for development-mode apps */
  available_markets?: string[];
  external_urls: ExternalUrls;
  href: string;
  id: string;
  images: Image[];
  name: string;
  release_date: string;
  release_date_precision: 'year' | 'month' | 'day';
  restrictions?: { reason?: 'market' | 'product' | 'explicit' };
  type: 'album';
  uri: string;
  artists: SimplifiedArtist[];
}

/** A track of Spotify's catalog. */
export interface SpotifyTrack {
  album: SimplifiedAlbum;
  artists: SimplifiedArtist[];
  available_markets?: string[];
  disc_number: number;
  duration_ms: number;
  explicit: boolean;
  external_ids: { isrc?: string; ean?: string; upc?: string };
  external_urls: ExternalUrls;
  href: string;
  id: string;
  is_playable?: boolean;
  linked_from?: { external_urls?: ExternalUrls; href?: string; id?: string; type?: string; uri?: string };
  restrictions?: { reason?: string };
  name: string;
  popularity?: number;
  preview_url?: string | null;
  track_number: number;
  type: 'track';
  uri: string;
  is_local: boolean;
}

type Nulls<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };

/** A local file (live-differences.ts 'local-file'): no ids, and null links and catalog data. */
export interface LocalTrack extends Omit<Nulls<SpotifyTrack, 'id' | 'href'>, 'album' | 'artists' | 'is_local'> {
  is_local: true;
  album: Omit<
    Nulls<SimplifiedAlbum, 'id' | 'href' | 'uri' | 'album_type' | 'release_date' | 'release_date_precision'>,
    'artists' | 'total_tracks'
  > & { artists: LocalArtist[]; total_tracks?: number };
  artists: LocalArtist[];
}
export type LocalArtist = Nulls<SimplifiedArtist, 'id' | 'href' | 'uri'>;

/** Tell them apart by `id === null` (or is_local). */
export type Track = SpotifyTrack | LocalTrack;

export interface PlayContext {
  type: string;
  href: string;
  external_urls: ExternalUrls;
  uri: string;
}

export interface PlayHistoryItem {
  track: Track;
  /** UTC, with or without milliseconds */
  played_at: string;
  context: PlayContext | null;
}

export interface RecentlyPlayedPage {
  href: string;
  limit: number;
  next: string | null;
  /** null on an empty page; otherwise epoch-ms strings: after = newest played_at, before = oldest */
  cursors: { after: string; before: string } | null;
  items: PlayHistoryItem[];
}

/** A page whose envelope was checked and whose items were not (see getRecentlyPlayedRaw). */
export type RawRecentlyPlayedPage = Omit<RecentlyPlayedPage, 'items'> & { items: unknown[] };

export interface PrivateUser {
  account_id?: string;
  country?: string;
  display_name?: string | null;
  email?: string;
  explicit_content?: { filter_enabled?: boolean; filter_locked?: boolean };
  external_urls?: ExternalUrls;
  followers?: { href?: string | null; total?: number };
  href?: string;
  id: string;
  images?: Image[];
  product?: string;
  type?: string;
  uri?: string;
}

export interface WebApiErrorBody {
  error: { status: number; message: string; reason?: string };
}
