// How gaps are found (DESIGN.md "Gaps are reported, not hidden"), as one pure function every adapter runs.
//
// The adapter, holding the user's lock (so no two evaluations of one user interleave), reads the user's extractions
// that are not settled yet, in order of `orderKey` = fetchedAt, or requestedAt while not fetched (an extraction
// requested before another was fetched may still fetch before it), ties by id. For each it also reads `baseline`:
// the newest `newestPlayedAt` of the user's 'done' extractions ordered before it (settled or not), i.e. the newest
// play the product had loaded from earlier extractions (page newest, not the plays attributed to them: a play seen
// by two pages is attributed to whichever loaded first, and loading may happen out of order).
//
// Walking in order:
// - an extraction that is not final stops the walk: it and everything after it wait (in flight: defer; a lost one is
//   failed by failStaleExtractions, which re-evaluates);
// - 'failed' and 'no_new_plays' are settled without a gap (skipped: a failed page loaded nothing);
// - 'done': a full page whose oldest played_at is strictly after the baseline records a gap (from = baseline,
//   to = page oldest); no baseline (the user's first loaded page) is never a gap. Then it is settled.
// Settled extractions are never evaluated again (unless a failed one is later loaded after all: the adapter
// unsettles it when loadBatch turns it into 'done').
import type { ExtractionState } from '../types.ts';
import { FINAL_EXTRACTION_STATES } from '../types.ts';

export interface GapCandidate {
  id: string;
  state: ExtractionState;
  pageFull: boolean | null;
  oldestPlayedAt: Date | null;
  /** newest newestPlayedAt of 'done' extractions ordered before this one; null when none */
  baseline: Date | null;
}

export interface GapDecision {
  extractionId: string;
  gap: { from: Date; to: Date } | null;
}

/** Candidates in order; returns the ones to settle now, in order, each with its gap or null. */
export function decideGaps(candidates: readonly GapCandidate[]): GapDecision[] {
  const decisions: GapDecision[] = [];
  for (const c of candidates) {
    if (!FINAL_EXTRACTION_STATES.includes(c.state)) break;
    if (c.state !== 'done') {
      decisions.push({ extractionId: c.id, gap: null });
      continue;
    }
    const gapped =
      c.pageFull === true &&
      c.oldestPlayedAt !== null &&
      c.baseline !== null &&
      c.oldestPlayedAt.getTime() > c.baseline.getTime();
    decisions.push({
      extractionId: c.id,
      gap: gapped && c.baseline && c.oldestPlayedAt ? { from: c.baseline, to: c.oldestPlayedAt } : null,
    });
  }
  return decisions;
}
