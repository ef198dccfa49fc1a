// Compares what the database holds with the simulator's ledger, play by play on every field both sides know.
import type { StoredPlay } from '@playledger/store';
import type { LedgerPlay } from './sim-control.ts';

export interface PlayDifference {
  key: string;
  field: string;
  ledger: unknown;
  stored: unknown;
}

export interface LedgerComparison {
  ledgerCount: number;
  storedCount: number;
  /** in the ledger, not in the database */
  missing: string[];
  /** in the database, not in the ledger */
  extra: string[];
  /** the same play stored more than once */
  doubled: string[];
  differences: PlayDifference[];
}

export function playKey(trackUri: string, playedAtMs: number): string {
  return `${new Date(playedAtMs).toISOString()} ${trackUri}`;
}

/** The fields a stored play shares with a ledger entry, shaped like the ledger. */
export function storedAsLedger(play: StoredPlay): Omit<LedgerPlay, 'playedAt' | 'playedMs' | 'quirks'> {
  return {
    playedAtMs: Date.parse(play.playedAt),
    trackUri: play.track.uri,
    trackId: play.track.id,
    trackName: play.track.name,
    artistNames: play.track.artists.map((a) => a.name),
    albumName: play.track.album?.name ?? null,
    durationMs: play.track.durationMs,
    contextUri: play.context?.uri ?? null,
    isLocal: play.track.isLocal,
    isrc: play.track.isrc,
  };
}

const FIELDS = [
  'trackId',
  'trackName',
  'artistNames',
  'albumName',
  'durationMs',
  'contextUri',
  'isLocal',
  'isrc',
] as const satisfies readonly (keyof ReturnType<typeof storedAsLedger>)[];

export function compareWithLedger(ledger: readonly LedgerPlay[], stored: readonly StoredPlay[]): LedgerComparison {
  const expected = new Map<string, LedgerPlay>();
  for (const play of ledger) expected.set(playKey(play.trackUri, play.playedAtMs), play);
  const seen = new Map<string, ReturnType<typeof storedAsLedger>>();
  const doubled: string[] = [];
  for (const play of stored) {
    const shaped = storedAsLedger(play);
    const key = playKey(shaped.trackUri, shaped.playedAtMs);
    if (seen.has(key)) doubled.push(key);
    seen.set(key, shaped);
  }
  const missing = [...expected.keys()].filter((k) => !seen.has(k));
  const extra = [...seen.keys()].filter((k) => !expected.has(k));
  const differences: PlayDifference[] = [];
  for (const [key, want] of expected) {
    const got = seen.get(key);
    if (!got) continue;
    for (const field of FIELDS) {
      if (JSON.stringify(want[field] ?? null) !== JSON.stringify(got[field] ?? null)) {
        differences.push({ key, field, ledger: want[field], stored: got[field] });
      }
    }
  }
  return { ledgerCount: ledger.length, storedCount: stored.length, missing, extra, doubled, differences };
}

/** A short text for a failed assertion. */
export function describeComparison(c: LedgerComparison, max = 10): string {
  return [
    `ledger ${c.ledgerCount}, stored ${c.storedCount}`,
    `missing ${c.missing.length}: ${c.missing.slice(0, max).join(', ')}`,
    `extra ${c.extra.length}: ${c.extra.slice(0, max).join(', ')}`,
    `doubled ${c.doubled.length}: ${c.doubled.slice(0, max).join(', ')}`,
    `field differences ${c.differences.length}: ${JSON.stringify(c.differences.slice(0, max))}`,
  ].join('\n');
}
