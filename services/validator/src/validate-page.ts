// The validator's whole logic: a raw recently-played page in, one LoadJob and the page's dead letters out.
// Pure: no database, no Spotify, no clock of its own (`now` is passed in).
import type { DeadLetterJob, LoadJob, NormalizedPlay, RawPageJob } from '@playledger/common';
import { checkItem } from './check-item.ts';

export interface ValidatedPage {
  load: LoadJob;
  deadLetters: DeadLetterJob[];
}

/** JSON with keys sorted at every depth, so that two equal records give one string whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * Checks every item of the page on its own: valid items become normalized plays, each invalid item one dead letter
 * (one bad record never sinks its page). Duplicates are collapsed and counted: a valid item with the track URI and
 * played_at instant of an earlier one is the same play (Spotify sends such items, sometimes with other details such as
 * images differing); an invalid item equal to an earlier one is the same rejected record. Two different tracks at one
 * instant are two plays. Plays keep the page's order (newest first).
 *
 * A replay (`replayOf`) passes its dead letter's id on only when every item passed, so that the loader marks the
 * dead letter resolved only when its record really loaded.
 */
export function validatePage(job: RawPageJob, now: Date): ValidatedPage {
  const plays: NormalizedPlay[] = [];
  const deadLetters: DeadLetterJob[] = [];
  const playKeys = new Set<string>();
  const rejected = new Set<string>();
  let duplicatesCollapsed = 0;
  // plays' playedAt are toISOString() of years 0-9999 (played-at.ts): as text they sort as the instants do
  let oldest: string | null = null;
  let newest: string | null = null;

  for (const item of job.items) {
    const result = checkItem(item, now);
    if (result.ok) {
      const { play } = result;
      const key = `${play.track.uri}\u0000${play.playedAt}`;
      if (playKeys.has(key)) {
        duplicatesCollapsed += 1;
        continue;
      }
      playKeys.add(key);
      plays.push(play);
      if (oldest === null || play.playedAt < oldest) oldest = play.playedAt;
      if (newest === null || play.playedAt > newest) newest = play.playedAt;
      continue;
    }
    const canonical = canonicalJson(item);
    if (rejected.has(canonical)) {
      duplicatesCollapsed += 1;
      continue;
    }
    rejected.add(canonical);
    deadLetters.push({
      extractionId: job.extractionId,
      userId: job.userId,
      stage: 'validator',
      rule: result.violation.rule,
      field: result.violation.field,
      message: result.violation.message,
      record: item,
      rejectedAt: now.toISOString(),
    });
  }

  const load: LoadJob = {
    extractionId: job.extractionId,
    userId: job.userId,
    fetchedAt: job.fetchedAt,
    plays,
    page: {
      fetched: job.items.length,
      full: job.items.length >= job.limit,
      oldestPlayedAt: oldest,
      newestPlayedAt: newest,
      deadLettered: deadLetters.length,
      duplicatesCollapsed,
    },
  };
  if (job.replayOf !== undefined && deadLetters.length === 0) load.replayOf = job.replayOf;
  return { load, deadLetters };
}
