// The rules a recently-played item must pass to become a play. Rule names are stable: they are stored with each
// dead letter, filtered on by operators and counted in metrics, so they are never renamed.

export const ValidationRules = {
  /** the item is not a JSON object at all */
  notAnObject: 'not-an-object',
  /** a value the play needs is absent or null (track, track.uri, track.name, track.duration_ms, played_at...) */
  missingValue: 'missing-value',
  /** a value is present but of the wrong type or out of range (duration_ms "abc", -1, explicit "yes"...) */
  invalidValue: 'invalid-value',
  /** played_at is not an ISO-8601 instant (or names a day or time that does not exist) */
  playedAtUnparseable: 'played-at-unparseable',
  /** played_at lies after the moment the page was validated (beyond a small clock tolerance) */
  playedAtInFuture: 'played-at-in-future',
  /** the item is something other than a track (an episode...) */
  notATrack: 'not-a-track',
} as const;
export type ValidationRule = (typeof ValidationRules)[keyof typeof ValidationRules];

/** Clocks of Spotify and of this machine differ a little: a played_at up to this far ahead of `now` is accepted. */
export const FUTURE_TOLERANCE_MS = 5_000;

/** Why one record was rejected: the rule, the field as a JSON pointer into the record ('' = the record), in words. */
export interface Violation {
  rule: ValidationRule;
  field: string;
  message: string;
}

/** Thrown inside the item check to stop at the first violation; never leaves this service. */
export class ViolationError extends Error {
  override readonly name = 'ViolationError';
  readonly violation: Violation;
  constructor(violation: Violation) {
    super(violation.message);
    this.violation = violation;
  }
}

/** A JSON pointer (RFC 6901) from path segments: ['track', 'artists', 0, 'name'] -> /track/artists/0/name */
export function pointer(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The same path written the way a person reads it: track.artists[0].name */
export function dotted(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
