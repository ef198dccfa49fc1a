// One user's listening: the plays generated so far (the ledger, the truth) and what the API can still show.
import { drawPlay, placePlay, type Play, type Quirk } from './listening.ts';
import { localTrack, type Catalog, type CatalogTrack } from './catalog.ts';

/** Spotify keeps only the newest 50 items. */
export const VISIBLE_ITEMS = 50;

export interface LedgerEntry {
  playedAt: string;
  playedAtMs: number;
  trackUri: string;
  trackId: string | null;
  trackName: string;
  artistNames: string[];
  albumName: string;
  durationMs: number;
  playedMs: number;
  contextUri: string | null;
  isLocal: boolean;
  isrc: string | null;
  quirks: Quirk[];
  visible: boolean;
}

export class UserListening {
  readonly #catalog: Catalog;
  readonly #seed: string;
  readonly #userId: string;
  readonly #plays: Play[] = [];
  #lastEndMs: number;
  #nextIndex = 0;
  playsPerHour: number;

  constructor(catalog: Catalog, seed: string, userId: string, originMs: number, playsPerHour: number) {
    this.#catalog = catalog;
    this.#seed = seed;
    this.#userId = userId;
    this.#lastEndMs = originMs;
    this.playsPerHour = playsPerHour;
  }

  #previousTrack(): number | undefined {
    return this.#plays.at(-1)?.trackIndex;
  }

  #draw(): ReturnType<typeof drawPlay> {
    return drawPlay(this.#catalog, this.#seed, this.#userId, this.#nextIndex, this.playsPerHour, this.#previousTrack());
  }

  /** Generates every play that has ended by `nowMs`. */
  materialize(nowMs: number): void {
    for (;;) {
      const play = placePlay(this.#draw(), this.#nextIndex, this.#lastEndMs);
      if (play.playedAtMs > nowMs) return;
      this.#push(play);
    }
  }

  #push(play: Play): void {
    this.#plays.push(play);
    this.#lastEndMs = play.playedAtMs;
    this.#nextIndex++;
  }

  /**
   * Appends `count` plays that end after the last play and at or before `nowMs`, back to back and ending at `nowMs`;
   * squeezed evenly (quirk 'squeezed') when their durations do not fit. Throws when fewer than `count` ms are free.
   */
  listen(count: number, nowMs: number): Play[] {
    this.materialize(nowMs);
    const room = nowMs - this.#lastEndMs;
    if (count < 1) return [];
    if (room < count) throw new RangeError(`only ${room} ms between the last play and now: advance the clock first`);
    const drafts = [];
    for (let i = 0; i < count; i++) {
      drafts.push(drawPlay(this.#catalog, this.#seed, this.#userId, this.#nextIndex + i, this.playsPerHour, undefined));
    }
    const ends: number[] = new Array<number>(count);
    ends[count - 1] = nowMs;
    for (let i = count - 2; i >= 0; i--) ends[i] = ends[i + 1]! - drafts[i + 1]!.playedMs;
    const squeeze = ends[0]! <= this.#lastEndMs;
    if (squeeze) {
      const start = this.#lastEndMs;
      for (let i = 0; i < count; i++) ends[i] = start + Math.floor(((i + 1) * room) / count);
    }
    const added: Play[] = [];
    drafts.forEach((draft, i) => {
      const play = placePlay({ ...draft, sameInstant: false }, this.#nextIndex, this.#lastEndMs, ends[i]);
      if (squeeze) play.quirks.push('squeezed');
      this.#push(play);
      added.push(play);
    });
    return added;
  }

  /** All plays so far, oldest first. */
  plays(): readonly Play[] {
    return this.#plays;
  }

  /** The newest 50 items, newest first (a duplicate item counts as an item). */
  visibleItems(): Play[] {
    const items: Play[] = [];
    for (let i = this.#plays.length - 1; i >= 0 && items.length < VISIBLE_ITEMS; i--) {
      const play = this.#plays[i]!;
      items.push(play);
      if (play.duplicateItem && items.length < VISIBLE_ITEMS) items.push(play);
    }
    return items;
  }

  ledger(): LedgerEntry[] {
    const visible = new Set(this.visibleItems());
    return this.#plays.map((play) => {
      const source = this.#catalog.tracks[play.trackIndex]!;
      const t = source.track;
      const uri = play.isLocal ? localUri(source) : t.uri;
      return {
        playedAt: play.playedAt,
        playedAtMs: play.playedAtMs,
        trackUri: uri,
        trackId: play.isLocal ? null : t.id,
        trackName: t.name,
        artistNames: play.isLocal ? source.artistNames.slice(0, 1) : source.artistNames,
        albumName: source.albumName,
        durationMs: play.durationMs,
        playedMs: play.playedMs,
        contextUri: play.context?.uri ?? null,
        isLocal: play.isLocal,
        isrc: play.isLocal ? null : (t.external_ids.isrc ?? null),
        quirks: play.quirks,
        visible: visible.has(play),
      };
    });
  }
}

function localUri(source: CatalogTrack): string {
  return localTrack(source).uri;
}
