// Opaque page cursors: base64url of a small versioned JSON array of the last item's sort key.
// Every adapter uses these so that a cursor means the same thing whatever the store.
import { PermanentError } from '@playledger/common';

const VERSION = 1;

/** Encodes the sort key of the last item of a page (strings and numbers only). */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([VERSION, ...key]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor` with `arity` key parts. A cursor this store did not issue is the caller's
 * mistake: a PermanentError with rule 'invalid-cursor' (the api answers 400).
 */
export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== arity + 1 || parsed[0] !== VERSION) throw invalid();
  const key: unknown[] = parsed.slice(1);
  if (!key.every((k) => typeof k === 'string' || typeof k === 'number')) throw invalid();
  return key;
}

/** A cursor of (instant, text id): the usual shape. */
export function encodeInstantCursor(at: Date, id: string): string {
  return encodeCursor([at.toISOString(), id]);
}

export function decodeInstantCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = decodeCursor(cursor, 2);
  if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) throw invalid();
  return { at: new Date(at), id };
}

/** A cursor of one text id (for tables ordered by a serial id). */
export function encodeIdCursor(id: string): string {
  return encodeCursor([id]);
}

export function decodeIdCursor(cursor: string): string {
  const [id] = decodeCursor(cursor, 1);
  if (typeof id !== 'string' || !/^\d+$/.test(id)) throw invalid();
  return id;
}

function invalid(): PermanentError {
  return new PermanentError('invalid-cursor', 'the cursor is not one this store issued');
}
