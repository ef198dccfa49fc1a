// The catalog rows this process knows to be stored as they are, so that loadBatch sends only what is new or changed.
// People play the same tracks again and again: most batches repeat artists, albums and tracks already stored, and
// comparing them in the database cost about as much as loading the plays (bench/README.md). Adapter-neutral.
//
// A unit is remembered only after the transaction that wrote it (or found it identical) committed. The product never
// deletes catalog rows; a database restored from a backup under running loaders is the one case where a remembered
// unit may be missing from the database, so loaders are restarted after a restore (README, "Backups").
import type { AlbumRow, ArtistRow, CatalogRows, CreditRow, TrackRow } from './catalog.ts';

/** one unit per artist, album (with its credits and their count) and track (with its credits), as JSON by key */
export type CatalogUnits = Map<string, string>;

const artistKey = (uri: string): string => `artist\u0000${uri}`;
const albumKey = (uri: string): string => `album\u0000${uri}`;
const trackKey = (uri: string): string => `track\u0000${uri}`;

function creditsByOwner(credits: CreditRow[]): Map<string, CreditRow[]> {
  const byOwner = new Map<string, CreditRow[]>();
  for (const c of credits) {
    const list = byOwner.get(c.owner_uri);
    if (list) list.push(c);
    else byOwner.set(c.owner_uri, [c]);
  }
  return byOwner;
}

export function catalogUnits(rows: CatalogRows): CatalogUnits {
  const units: CatalogUnits = new Map();
  const albumCredits = creditsByOwner(rows.albumArtists);
  const albumCounts = new Map(rows.albumArtistCounts.map((c) => [c.uri, c.artist_count]));
  const trackCredits = creditsByOwner(rows.trackArtists);
  for (const a of rows.artists) units.set(artistKey(a.uri), JSON.stringify(a));
  for (const a of rows.albums) {
    units.set(albumKey(a.uri), JSON.stringify([a, albumCredits.get(a.uri) ?? [], albumCounts.get(a.uri) ?? null]));
  }
  for (const t of rows.tracks) units.set(trackKey(t.uri), JSON.stringify([t, trackCredits.get(t.uri) ?? []]));
  return units;
}

/** A bounded memory (least recently used out first) of catalog units as last committed by this process. */
export class CatalogCache {
  readonly #entries = new Map<string, string>();
  readonly #capacity: number;

  /** `capacity` units; 0 remembers nothing (every batch sends its whole catalog) */
  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `rows` without the artists, albums and tracks (and their credits) remembered exactly as they are; plays stay */
  omitKnown(rows: CatalogRows, units: CatalogUnits): CatalogRows {
    if (this.#entries.size === 0) return rows;
    const known = (key: string): boolean => {
      const value = this.#entries.get(key);
      return value !== undefined && value === units.get(key);
    };
    const album = (uri: string): boolean => !known(albumKey(uri));
    const track = (uri: string): boolean => !known(trackKey(uri));
    return {
      artists: rows.artists.filter((a: ArtistRow) => !known(artistKey(a.uri))),
      albums: rows.albums.filter((a: AlbumRow) => album(a.uri)),
      albumArtists: rows.albumArtists.filter((c) => album(c.owner_uri)),
      albumArtistCounts: rows.albumArtistCounts.filter((c) => album(c.uri)),
      tracks: rows.tracks.filter((t: TrackRow) => track(t.uri)),
      trackArtists: rows.trackArtists.filter((c) => track(c.owner_uri)),
      plays: rows.plays,
    };
  }

  /** Call only once the batch's transaction committed: its units are now stored as they are. */
  remember(units: CatalogUnits): void {
    if (this.#capacity === 0) return;
    for (const [key, value] of units) {
      this.#entries.delete(key); // re-inserted last: most recently used
      this.#entries.set(key, value);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break;
      this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
