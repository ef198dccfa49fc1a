// What a play is (DESIGN.md "What a play is"), in numbers every adapter shares.
import { createHash } from 'node:crypto';

/**
 * Two plays of the same track (same user, same track URI) whose played_at lie within this many milliseconds of each
 * other, inclusive, are one play. Within one batch the rule is applied along chains: plays of one track sorted by
 * played_at, a play within the window of the previous one is the same play as it (the earliest is kept). Against
 * stored plays: a play within the window of any stored play of the track is that stored play (the stored one stays).
 */
export const SAME_PLAY_WINDOW_MS = 2_000;

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The dead letter's identity: sha256 (hex) of the canonical JSON of the rejected record. */
export function recordFingerprint(record: unknown): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** played_at as the seed wrote it: ISO-8601 UTC with milliseconds (2026-06-05T23:45:36.176Z). */
export function isoMillis(d: Date): string {
  return d.toISOString();
}
