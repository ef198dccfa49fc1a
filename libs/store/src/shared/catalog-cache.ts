// The tracks this process knows to be stored as they are, so that loadBatch sends only the catalog rows that are new
// or changed. People play the same tracks again and again: most batches repeat tracks (with their album and artists)
// already stored, and comparing those rows in the database cost about as much as loading the plays
// (bench/README.md). Adapter-neutral.
//
// A track is remembered, as the JSON of everything the catalog keeps of it (its album and artists included), only
// after the transaction that wrote it (or found it identical) committed. A track that comes again exactly so needs
// none of its catalog rows sent. The product never deletes catalog rows; a database restored from a backup under
// running loaders is the one case where a remembered track may be missing, so loaders are restarted after a restore.
import type { LoadJob } from '@playledger/common';

/** a batch's tracks as JSON by URI (the last occurrence of a URI, as catalogRows keeps it) */
export type TrackFingerprints = Map<string, string>;

/**
 * A bounded memory of tracks as last committed by this process; when full, the track remembered (or last changed)
 * longest ago goes first. A track that goes and comes back costs one batch that sends its rows again.
 */
export class CatalogCache {
  readonly #entries = new Map<string, string>();
  readonly #capacity: number;

  /** `capacity` tracks; 0 remembers nothing (every batch sends its whole catalog) */
  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.#entries.size;
  }

  fingerprints(job: LoadJob): TrackFingerprints {
    const prints: TrackFingerprints = new Map();
    if (this.#capacity === 0) return prints;
    for (const { track } of job.plays) prints.set(track.uri, JSON.stringify(track));
    return prints;
  }

  /** whether the track `uri` is stored exactly as the batch has it, so that its catalog rows can be left out */
  has(uri: string, prints: TrackFingerprints): boolean {
    const stored = this.#entries.get(uri);
    return stored !== undefined && stored === prints.get(uri);
  }

  /** Call only once the batch's transaction committed: its tracks are now stored as they are. */
  remember(prints: TrackFingerprints): void {
    for (const [uri, print] of prints) {
      if (this.#entries.get(uri) === print) continue;
      this.#entries.delete(uri); // set again last: the newest
      this.#entries.set(uri, print);
    }
    for (const uri of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break;
      this.#entries.delete(uri);
    }
  }
}
