// One user's history as the product stored it, and the check of it against the simulator's ledger.
import type { Extraction, StoredPlay, Store } from '@playledger/store';
import { compareWithLedger, describeComparison, type LedgerComparison } from './ledger-compare.ts';
import type { Ledger } from './sim-control.ts';

export async function storedPlays(store: Store, userId: string): Promise<StoredPlay[]> {
  const plays: StoredPlay[] = [];
  for await (const play of store.streamPlays(userId, {})) plays.push(play);
  return plays;
}

export async function allExtractions(store: Store, userId: string): Promise<Extraction[]> {
  const out: Extraction[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listExtractions({ userId, limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/**
 * The database against the ledger for one user. The user's history starts at their first fetched page (the product
 * cannot know older plays), so ledger plays before `since` (default: the oldest play on the first page the product
 * fetched) are left out.
 */
export async function compareUser(
  store: Store,
  userId: string,
  ledger: Ledger,
  since?: Date,
): Promise<LedgerComparison> {
  let from = since;
  if (!from) {
    const fetched = (await allExtractions(store, userId))
      .filter((e) => e.fetchedAt && e.oldestPlayedAt)
      .sort((a, b) => (a.fetchedAt as Date).getTime() - (b.fetchedAt as Date).getTime());
    from = fetched[0]?.oldestPlayedAt ?? undefined;
  }
  const cutoff = from?.getTime() ?? -Infinity;
  return compareWithLedger(
    ledger.plays.filter((p) => p.playedAtMs >= cutoff),
    await storedPlays(store, userId),
  );
}

/** A readable problem when the comparison shows any difference (or nothing stored); null when it is exact. */
export function inexactness(simUserId: string, c: LedgerComparison): string | null {
  if (c.missing.length + c.extra.length + c.doubled.length + c.differences.length > 0 || c.storedCount === 0) {
    return `${simUserId}: ${describeComparison(c)}`;
  }
  return null;
}
