// The adapter-neutral rules: cursors, the record fingerprint, the gap decision.
import { describe, expect, it } from 'vitest';
import { PermanentError } from '@playledger/common';
import {
  decodeIdCursor,
  decodeInstantCursor,
  encodeCursor,
  encodeIdCursor,
  encodeInstantCursor,
} from '../src/shared/cursor.ts';
import { decideGaps, type GapCandidate } from '../src/shared/gaps.ts';
import { canonicalJson, recordFingerprint } from '../src/shared/play-rules.ts';

describe('cursors', () => {
  it('round-trip and are opaque base64url', () => {
    const at = new Date('2026-06-05T23:45:36.176Z');
    const c = encodeInstantCursor(at, 'spotify:track:x');
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeInstantCursor(c)).toEqual({ at, id: 'spotify:track:x' });
    expect(decodeIdCursor(encodeIdCursor('42'))).toBe('42');
  });

  it('refuse what they did not issue with a PermanentError (invalid-cursor)', () => {
    for (const bad of ['', 'zzz', encodeCursor(['a']), encodeCursor(['x', 'y']), encodeIdCursor('1; drop')]) {
      const attempt = () =>
        bad.length > 0 && bad === encodeCursor(['a']) ? decodeInstantCursor(bad) : decodeIdCursor(bad);
      expect(attempt).toThrow(PermanentError);
    }
    expect(() => decodeInstantCursor(encodeCursor(['not a date', 'id']))).toThrow(PermanentError);
  });
});

describe('record fingerprint', () => {
  it('is the same for the same record whatever the key order, different for another record', () => {
    const a = { b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } };
    const b = { a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(recordFingerprint(a)).toBe(recordFingerprint(b));
    expect(recordFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(recordFingerprint({ ...a, b: 2 })).not.toBe(recordFingerprint(a));
    expect(recordFingerprint(undefined)).toBe(recordFingerprint(null));
  });
});

describe('decideGaps', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
  const c = (id: string, state: GapCandidate['state'], o: Partial<GapCandidate> = {}): GapCandidate => ({
    id,
    state,
    pageFull: true,
    oldestPlayedAt: t(100),
    baseline: t(10),
    ...o,
  });

  it('records a gap for a full page past the baseline, from the baseline to the page oldest', () => {
    expect(decideGaps([c('e', 'done')])).toEqual([{ extractionId: 'e', gap: { from: t(10), to: t(100) } }]);
  });

  it('no gap: first page, partial page, page reaching the baseline', () => {
    expect(
      decideGaps([
        c('first', 'done', { baseline: null }),
        c('partial', 'done', { pageFull: false }),
        c('reaches', 'done', { oldestPlayedAt: t(10) }),
        c('empty', 'done', { oldestPlayedAt: null }),
      ]).map((d) => d.gap),
    ).toEqual([null, null, null, null]);
  });

  it('stops at the first extraction not final; failed and no_new_plays are settled without a gap', () => {
    expect(
      decideGaps([c('f', 'failed'), c('n', 'no_new_plays'), c('d', 'done'), c('open', 'loading'), c('later', 'done')]),
    ).toEqual([
      { extractionId: 'f', gap: null },
      { extractionId: 'n', gap: null },
      { extractionId: 'd', gap: { from: t(10), to: t(100) } },
    ]);
    expect(decideGaps([c('p', 'pending'), c('d', 'done')])).toEqual([]);
  });
});
