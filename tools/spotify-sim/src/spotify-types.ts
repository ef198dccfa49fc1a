// The shapes the simulator serves, with Spotify's key order (FACTS facts 5 and 16, and ../shared/spotify/pages).

export interface ExternalUrls {
  spotify?: string;
}

export interface SimplifiedArtist {
  external_urls: ExternalUrls;
  href: string | null;
  id: string | null;
  name: string;
  type: 'artist';
  uri: string | null;
}

export interface Image {
  height: number;
  url: string;
  width: number;
}

export interface Album {
  album_type: string | null;
  artists: SimplifiedArtist[];
  available_markets?: string[];
  external_urls: ExternalUrls;
  href: string | null;
  id: string | null;
  images: Image[];
  name: string;
  release_date: string | null;
  release_date_precision: string | null;
  total_tracks?: number;
  type: 'album';
  uri: string | null;
}

export interface Track {
  album: Album;
  artists: SimplifiedArtist[];
  available_markets?: string[];
  disc_number: number;
  duration_ms: number;
  explicit: boolean;
  external_ids: { isrc?: string };
  external_urls: ExternalUrls;
  href: string | null;
  id: string | null;
  is_local: boolean;
  name: string;
  popularity?: number;
  preview_url: string | null;
  track_number: number;
  type: 'track';
  uri: string;
}

export interface Context {
  type: 'playlist' | 'album' | 'artist';
  external_urls: ExternalUrls;
  href: string;
  uri: string;
}

export interface PlayHistoryItem {
  track: Track;
  played_at: string;
  context: Context | null;
}

export interface RecentlyPlayedPage {
  items: PlayHistoryItem[];
  next: string | null;
  cursors: { after: string; before: string } | null;
  limit: number;
  href: string;
}
