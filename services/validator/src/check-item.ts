// One recently-played item checked and normalized: either a NormalizedPlay or the first rule it breaks.
// Only what the loader needs is kept (no images, markets, popularity, preview URLs, hrefs).
import type { NormalizedAlbum, NormalizedArtist, NormalizedPlay, NormalizedTrack } from '@playledger/common';
import { parsePlayedAt } from './played-at.ts';
import { FUTURE_TOLERANCE_MS, ValidationRules, ViolationError, dotted, pointer, type Violation } from './rules.ts';

type Path = readonly (string | number)[];
type Json = Record<string, unknown>;

export type ItemResult = { ok: true; play: NormalizedPlay } | { ok: false; violation: Violation };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(rule: Violation['rule'], path: Path, message: string): never {
  throw new ViolationError({ rule, field: pointer(path), message });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'absent';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Reads fields of one object, failing with the field's JSON pointer and a sentence that says what was expected. */
class Reader {
  readonly obj: Json;
  readonly path: Path;
  constructor(obj: Json, path: Path) {
    this.obj = obj;
    this.path = path;
  }

  private at(key: string): Path {
    return [...this.path, key];
  }

  private missing(key: string, why: string): never {
    return fail(ValidationRules.missingValue, this.at(key), `${dotted(this.at(key))} is missing: ${why}.`);
  }

  private invalid(key: string, expected: string): never {
    const value = this.obj[key];
    return fail(
      ValidationRules.invalidValue,
      this.at(key),
      `${dotted(this.at(key))} should be ${expected}, but is ${describe(value)}.`,
    );
  }

  object(key: string, why: string): Reader {
    const value = this.obj[key];
    if (value === undefined || value === null) this.missing(key, why);
    if (!isObject(value)) this.invalid(key, 'an object');
    return new Reader(value, this.at(key));
  }

  optionalObject(key: string): Reader | null {
    const value = this.obj[key];
    if (value === undefined || value === null) return null;
    if (!isObject(value)) this.invalid(key, 'an object or null');
    return new Reader(value, this.at(key));
  }

  string(key: string, why: string, options: { nonEmpty?: boolean } = {}): string {
    const value = this.obj[key];
    if (value === undefined || value === null) this.missing(key, why);
    if (typeof value !== 'string') this.invalid(key, 'text');
    if (options.nonEmpty && value.trim() === '') this.missing(key, why);
    return value;
  }

  optionalString(key: string): string | null {
    const value = this.obj[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') this.invalid(key, 'text or null');
    return value;
  }

  integer(key: string, why: string, min: number): number {
    const value = this.obj[key];
    if (value === undefined || value === null) this.missing(key, why);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      this.invalid(key, `a whole number of at least ${min}`);
    }
    return value;
  }

  optionalInteger(key: string, min: number): number | null {
    const value = this.obj[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      this.invalid(key, `a whole number of at least ${min}, or null`);
    }
    return value;
  }

  optionalBoolean(key: string, fallback: boolean): boolean {
    const value = this.obj[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.invalid(key, 'true or false');
    return value;
  }

  /** A list of objects; each element read with `read`. */
  list<T>(key: string, why: string | null, read: (element: Reader) => T): T[] {
    const value = this.obj[key];
    if (value === undefined || value === null) {
      if (why === null) return [];
      this.missing(key, why);
    }
    if (!Array.isArray(value)) this.invalid(key, 'a list');
    return value.map((element: unknown, i) => {
      const path = [...this.at(key), i];
      if (!isObject(element)) {
        fail(ValidationRules.invalidValue, path, `${dotted(path)} should be an object, but is ${describe(element)}.`);
      }
      return read(new Reader(element, path));
    });
  }
}

function readArtist(artist: Reader): NormalizedArtist {
  return {
    uri: artist.optionalString('uri'),
    id: artist.optionalString('id'),
    name: artist.string('name', 'every artist needs a name'),
  };
}

function readAlbum(album: Reader): NormalizedAlbum {
  return {
    uri: album.optionalString('uri'),
    id: album.optionalString('id'),
    name: album.string('name', 'an album given with a track needs a name'),
    albumType: album.optionalString('album_type'),
    releaseDate: album.optionalString('release_date'),
    artists: album.list('artists', null, readArtist),
  };
}

function readTrack(track: Reader): NormalizedTrack {
  const album = track.optionalObject('album');
  return {
    uri: track.string('uri', 'the track URI identifies the play', { nonEmpty: true }),
    id: track.optionalString('id'), // null for a local file: the URI is the key
    name: track.string('name', 'every track needs a name'),
    durationMs: track.integer('duration_ms', 'every track needs its duration', 0),
    explicit: track.optionalBoolean('explicit', false),
    isrc: track.optionalObject('external_ids')?.optionalString('isrc') ?? null,
    isLocal: track.optionalBoolean('is_local', false),
    discNumber: track.optionalInteger('disc_number', 0),
    trackNumber: track.optionalInteger('track_number', 0),
    album: album ? readAlbum(album) : null,
    artists: track.list('artists', 'every track needs its list of artists (it may be empty)', readArtist),
  };
}

function readPlayedAt(item: Reader, now: Date): string {
  const raw = item.obj.played_at;
  if (raw === undefined || raw === null) {
    fail(ValidationRules.missingValue, ['played_at'], 'played_at is missing: every play needs the time it ended.');
  }
  const playedAt = typeof raw === 'string' ? parsePlayedAt(raw) : null;
  if (!playedAt) {
    fail(
      ValidationRules.playedAtUnparseable,
      ['played_at'],
      `played_at should be an ISO-8601 date and time such as 2026-06-05T23:45:36.176Z, but is ${describe(raw)}.`,
    );
  }
  if (playedAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    fail(
      ValidationRules.playedAtInFuture,
      ['played_at'],
      `played_at ${playedAt.toISOString()} lies in the future (validated at ${now.toISOString()}): a play is only listed once it has ended.`,
    );
  }
  return playedAt.toISOString(); // UTC with milliseconds: a played_at without them becomes .000Z
}

function readContext(item: Reader): NormalizedPlay['context'] {
  const context = item.optionalObject('context'); // null on most plays
  if (!context) return null;
  // context.href can be wrong (".../artists/null" next to a valid uri, FACTS.md fact 12): the uri is what counts
  return {
    type: context.string('type', 'a context names its type (playlist, album, artist, show)', { nonEmpty: true }),
    uri: context.string('uri', 'a context is identified by its uri', { nonEmpty: true }),
  };
}

/** Checks one item of a recently-played page against every rule and normalizes it. Stops at the first violation. */
export function checkItem(item: unknown, now: Date): ItemResult {
  try {
    if (!isObject(item)) {
      fail(
        ValidationRules.notAnObject,
        [],
        `The item should be an object holding a track and played_at, but is ${describe(item)}.`,
      );
    }
    const reader = new Reader(item, []);
    const track = reader.object('track', 'every play needs the track that was played');
    const type = track.string('type', 'the item must say what was played (track)');
    if (type !== 'track') {
      fail(
        ValidationRules.notATrack,
        ['track', 'type'],
        `The item is not a track but ${JSON.stringify(type)} (track.type): only tracks are kept as plays.`,
      );
    }
    const playedAt = readPlayedAt(reader, now);
    return { ok: true, play: { playedAt, track: readTrack(track), context: readContext(reader) } };
  } catch (error) {
    if (error instanceof ViolationError) return { ok: false, violation: error.violation };
    throw error;
  }
}
