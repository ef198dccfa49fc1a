// Extraction records, and the gap evaluation that runs after each load and each final state (shared/gaps.ts).
import type { QueryConfig, QueryResult } from 'pg';
import type { ExtractionTrigger, Logger } from '@playledger/common';
import type { Extraction, ExtractionState, Gap, Page } from '../types.ts';
import { decodeIdCursor, decodeInstantCursor, encodeIdCursor, encodeInstantCursor } from '../shared/cursor.ts';
import { decideGaps, type GapCandidate } from '../shared/gaps.ts';
import type { Queryable } from './db.ts';
import { USER_LOCK_CLASS } from './locks.ts';
import { toExtraction, toGap, type ExtractionRow, type GapRow } from './rows.ts';

const FINAL = `('done', 'no_new_plays', 'failed')`;

export async function startExtraction(
  db: Queryable,
  e: { id: string; userId: string; trigger: ExtractionTrigger; requestedAt: Date },
): Promise<Extraction> {
  const inserted = await db.query<ExtractionRow>(
    `INSERT INTO extractions (id, user_id, trigger, state, requested_at) VALUES ($1, $2, $3, 'pending', $4)
     ON CONFLICT (id) DO NOTHING RETURNING *`,
    [e.id, e.userId, e.trigger, e.requestedAt],
  );
  if (inserted.rows[0]) return toExtraction(inserted.rows[0]);
  const existing = await getExtraction(db, e.id);
  if (!existing) throw new Error(`extraction ${e.id} vanished while being started`);
  return existing;
}

export async function markExtractionFetched(
  db: Queryable,
  id: string,
  page: { fetchedAt: Date; fetched: number; full: boolean; oldestPlayedAt: Date | null; newestPlayedAt: Date | null },
): Promise<void> {
  // the first fetch counts (a retried extraction publishes under the same job id, so its first page is the one loaded)
  await db.query(
    `UPDATE extractions SET fetched_at = $2, fetched = $3, page_full = $4, oldest_played_at = $5, newest_played_at = $6,
       state = CASE WHEN state = 'pending' THEN 'validating' ELSE state END
     WHERE id = $1 AND fetched_at IS NULL AND state NOT IN ${FINAL}`,
    [id, page.fetchedAt, page.fetched, page.full, page.oldestPlayedAt, page.newestPlayedAt],
  );
}

const RANK = `CASE state WHEN 'pending' THEN 0 WHEN 'validating' THEN 1 WHEN 'loading' THEN 2 ELSE 3 END`;

/** Moves forward only: a redelivered validation job never takes a loading record back, nor a final one. */
export async function setExtractionState(db: Queryable, id: string, state: 'validating' | 'loading'): Promise<void> {
  const rank = state === 'validating' ? 1 : 2;
  await db.query(`UPDATE extractions SET state = $2 WHERE id = $1 AND ${RANK} < $3`, [id, state, rank]);
}

/** Returns the user of the extraction when its state changed (the caller then re-evaluates gaps). */
export async function finishExtraction(
  db: Queryable,
  id: string,
  state: 'no_new_plays' | 'failed',
  reason: string | null,
): Promise<string | null> {
  const r = await db.query<{ user_id: string }>(
    `UPDATE extractions SET state = $2, reason = $3, finished_at = now()
     WHERE id = $1 AND state NOT IN ${FINAL} RETURNING user_id`,
    [id, state, reason],
  );
  return r.rows[0]?.user_id ?? null;
}

export async function getExtraction(db: Queryable, id: string): Promise<Extraction | null> {
  const r = await db.query<ExtractionRow>('SELECT * FROM extractions WHERE id = $1', [id]);
  return r.rows[0] ? toExtraction(r.rows[0]) : null;
}

/** Newest requested first; the cursor holds (requested_at, id) of the last item. */
export async function listExtractions(
  db: Queryable,
  filter: { userId?: string; state?: ExtractionState; limit: number; cursor?: string },
): Promise<Page<Extraction>> {
  const after = filter.cursor ? decodeInstantCursor(filter.cursor) : null;
  const limit = Math.max(1, Math.floor(filter.limit));
  const r = await db.query<ExtractionRow>(
    `SELECT * FROM extractions
     WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR state = $2)
       AND ($3::timestamptz IS NULL OR (requested_at, id) < ($3, $4::text))
     ORDER BY requested_at DESC, id DESC LIMIT $5`,
    [filter.userId ?? null, filter.state ?? null, after?.at ?? null, after?.id ?? null, limit + 1],
  );
  const items = r.rows.slice(0, limit).map(toExtraction);
  const last = items[items.length - 1];
  return { items, nextCursor: r.rows.length > limit && last ? encodeInstantCursor(last.requestedAt, last.id) : null };
}

export async function findPendingExtraction(db: Queryable, userId: string): Promise<Extraction | null> {
  const r = await db.query<ExtractionRow>(
    `SELECT * FROM extractions WHERE user_id = $1 AND state NOT IN ${FINAL}
     ORDER BY requested_at DESC, id DESC LIMIT 1`,
    [userId],
  );
  return r.rows[0] ? toExtraction(r.rows[0]) : null;
}

/** Marks stale open extractions failed; returns the users touched (their gaps are then re-evaluated). */
export async function failStaleExtractions(db: Queryable, olderThan: Date): Promise<string[]> {
  const r = await db.query<{ user_id: string }>(
    `UPDATE extractions SET state = 'failed', reason = 'lost in transit', finished_at = now()
     WHERE state NOT IN ${FINAL} AND requested_at < $1 RETURNING user_id`,
    [olderThan],
  );
  return r.rows.map((row) => row.user_id);
}

/** Serializes loads and gap evaluations of one user (transaction-scoped). */
export function lockUserQuery(userId: string): QueryConfig {
  return {
    name: 'playledger-lock-user-1',
    text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
    values: [USER_LOCK_CLASS, userId],
  };
}

export async function lockUser(db: Queryable, userId: string): Promise<void> {
  await db.query(lockUserQuery(userId));
}

export interface GapCandidateRow {
  id: string;
  state: ExtractionState;
  page_full: boolean | null;
  oldest_played_at: Date | null;
  baseline: Date | null;
}

/** The user's extractions not settled yet, in order, each with its baseline (shared/gaps.ts). */
export function gapCandidatesQuery(userId: string): QueryConfig {
  return {
    name: 'playledger-gap-candidates-1',
    text: `SELECT e.id, e.state, e.page_full, e.oldest_played_at,
       (SELECT b.newest_played_at FROM extractions b
         WHERE b.user_id = e.user_id AND b.state = 'done' AND b.newest_played_at IS NOT NULL
           AND (b.order_at, b.id) < (e.order_at, e.id)
         ORDER BY b.newest_played_at DESC LIMIT 1) AS baseline
     FROM extractions e
     WHERE e.user_id = $1 AND e.gap_settled_at IS NULL
     ORDER BY e.order_at, e.id`,
    values: [userId],
  };
}

/** What the decisions on the candidates write: one statement per gap (returning it), one for all the others. */
export interface GapSettlement {
  gaps: QueryConfig[];
  settled: QueryConfig | null;
}

export function gapSettlement(userId: string, rows: readonly GapCandidateRow[]): GapSettlement {
  const candidates: GapCandidate[] = rows.map((row) => ({
    id: row.id,
    state: row.state,
    pageFull: row.page_full,
    oldestPlayedAt: row.oldest_played_at,
    baseline: row.baseline,
  }));
  const gaps: QueryConfig[] = [];
  const settled: string[] = [];
  for (const decision of decideGaps(candidates)) {
    if (!decision.gap) {
      settled.push(decision.extractionId);
      continue;
    }
    gaps.push({
      text: `WITH gap AS (
         INSERT INTO gaps (user_id, extraction_id, from_at, to_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (extraction_id) DO UPDATE SET from_at = excluded.from_at, to_at = excluded.to_at
         RETURNING *
       ), settled AS (
         UPDATE extractions e SET gap_settled_at = now(), gap_id = gap.id FROM gap WHERE e.id = $2
       )
       SELECT * FROM gap`,
      values: [userId, decision.extractionId, decision.gap.from, decision.gap.to],
    });
  }
  return {
    gaps,
    // those without a gap, settled at once (usually the one extraction just loaded)
    settled: settled.length
      ? {
          name: 'playledger-settle-gaps-1',
          text: 'UPDATE extractions SET gap_settled_at = now() WHERE id = ANY($1::text[])',
          values: [settled],
        }
      : null,
  };
}

/** The gap a gap statement of `gapSettlement` recorded, logged. */
export function recordedGap(result: QueryResult<GapRow>, userId: string, logger: Logger): Gap {
  const gap = toGap(result.rows[0] as GapRow);
  logger.warn(
    { userId, extractionId: gap.extractionId, from: gap.from, to: gap.to, gapId: gap.id },
    'gap recorded: plays between from and to may be lost',
  );
  return gap;
}

/**
 * Inside a transaction holding the user's lock: settles what can be settled (shared/gaps.ts) and records gaps.
 * Returns the gaps recorded now.
 */
export async function evaluateGaps(db: Queryable, userId: string, logger: Logger): Promise<Gap[]> {
  const r = await db.query<GapCandidateRow>(gapCandidatesQuery(userId));
  const settlement = gapSettlement(userId, r.rows);
  const gaps: Gap[] = [];
  for (const q of settlement.gaps) gaps.push(recordedGap(await db.query<GapRow>(q), userId, logger));
  if (settlement.settled) await db.query(settlement.settled);
  return gaps;
}

/** Newest detected first; the cursor holds the last gap's id. */
export async function listGaps(
  db: Queryable,
  filter: { userId?: string; limit: number; cursor?: string },
): Promise<Page<Gap>> {
  const limit = Math.max(1, Math.floor(filter.limit));
  const r = await db.query<GapRow>(
    `SELECT * FROM gaps WHERE ($1::text IS NULL OR user_id = $1) AND ($2::bigint IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [filter.userId ?? null, filter.cursor ? decodeIdCursor(filter.cursor) : null, limit + 1],
  );
  const items = r.rows.slice(0, limit).map(toGap);
  const last = items[items.length - 1];
  return { items, nextCursor: r.rows.length > limit && last ? encodeIdCursor(last.id) : null };
}
