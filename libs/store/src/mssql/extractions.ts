// Extraction records, and the gap evaluation that runs after each load and each final state (shared/gaps.ts).
import sql from 'mssql';
import type { ExtractionTrigger, Logger } from '@playledger/common';
import type { Extraction, ExtractionState, Gap, Page } from '../types.ts';
import { decodeIdCursor, decodeInstantCursor, encodeIdCursor, encodeInstantCursor } from '../shared/cursor.ts';
import { decideGaps, type GapCandidate, type GapDecision } from '../shared/gaps.ts';
import type { Db } from './db.ts';
import { EXTRACTION_COLUMNS, toExtraction, toGap, type ExtractionRow, type GapRow } from './rows.ts';
import { USER_ID_TYPE } from './users.ts';

export const EXTRACTION_ID_TYPE = sql.NVarChar(200);
const FINAL = `('done', 'no_new_plays', 'failed')`;

export async function startExtraction(
  db: Db,
  e: { id: string; userId: string; trigger: ExtractionTrigger; requestedAt: Date },
): Promise<Extraction> {
  // one statement: the range lock of UPDLOCK, HOLDLOCK makes a concurrent start of the same id wait, then see it
  const r = await db
    .request()
    .input('id', EXTRACTION_ID_TYPE, e.id)
    .input('user_id', USER_ID_TYPE, e.userId)
    .input('trigger', sql.VarChar(20), e.trigger)
    .input('requested_at', sql.DateTime2(3), e.requestedAt)
    .query<ExtractionRow>(
      `INSERT INTO extractions (id, user_id, [trigger], state, requested_at)
       SELECT @id, @user_id, @trigger, 'pending', @requested_at
       WHERE NOT EXISTS (SELECT 1 FROM extractions WITH (UPDLOCK, HOLDLOCK) WHERE id = @id);
       SELECT ${EXTRACTION_COLUMNS} FROM extractions WHERE id = @id;`,
    );
  const row = r.recordset[0];
  if (!row) throw new Error(`extraction ${e.id} vanished while being started`);
  return toExtraction(row);
}

export async function markExtractionFetched(
  db: Db,
  id: string,
  page: { fetchedAt: Date; fetched: number; full: boolean; oldestPlayedAt: Date | null; newestPlayedAt: Date | null },
): Promise<void> {
  // the first fetch counts (a retried extraction publishes under the same job id, so its first page is the one loaded)
  await db
    .request()
    .input('id', EXTRACTION_ID_TYPE, id)
    .input('fetched_at', sql.DateTime2(3), page.fetchedAt)
    .input('fetched', sql.Int, page.fetched)
    .input('full', sql.Bit, page.full)
    .input('oldest', sql.DateTime2(3), page.oldestPlayedAt)
    .input('newest', sql.DateTime2(3), page.newestPlayedAt)
    .query(
      `UPDATE extractions SET fetched_at = @fetched_at, fetched = @fetched, page_full = @full,
         oldest_played_at = @oldest, newest_played_at = @newest,
         state = CASE WHEN state = 'pending' THEN 'validating' ELSE state END
       WHERE id = @id AND fetched_at IS NULL AND state NOT IN ${FINAL}`,
    );
}

const RANK = `CASE state WHEN 'pending' THEN 0 WHEN 'validating' THEN 1 WHEN 'loading' THEN 2 ELSE 3 END`;

/** Moves forward only: a redelivered validation job never takes a loading record back, nor a final one. */
export async function setExtractionState(db: Db, id: string, state: 'validating' | 'loading'): Promise<void> {
  await db
    .request()
    .input('id', EXTRACTION_ID_TYPE, id)
    .input('state', sql.VarChar(20), state)
    .input('rank', sql.Int, state === 'validating' ? 1 : 2)
    .query(`UPDATE extractions SET state = @state WHERE id = @id AND ${RANK} < @rank`);
}

/** Returns the user of the extraction when its state changed (the caller then re-evaluates gaps). */
export async function finishExtraction(
  db: Db,
  id: string,
  state: 'no_new_plays' | 'failed',
  reason: string | null,
): Promise<string | null> {
  const r = await db
    .request()
    .input('id', EXTRACTION_ID_TYPE, id)
    .input('state', sql.VarChar(20), state)
    .input('reason', sql.NVarChar(sql.MAX), reason)
    .query<{ user_id: string }>(
      `UPDATE extractions SET state = @state, reason = @reason, finished_at = SYSUTCDATETIME()
       OUTPUT inserted.user_id
       WHERE id = @id AND state NOT IN ${FINAL}`,
    );
  return r.recordset[0]?.user_id ?? null;
}

export async function getExtraction(db: Db, id: string): Promise<Extraction | null> {
  const r = await db
    .request()
    .input('id', EXTRACTION_ID_TYPE, id)
    .query<ExtractionRow>(`SELECT ${EXTRACTION_COLUMNS} FROM extractions WHERE id = @id`);
  return r.recordset[0] ? toExtraction(r.recordset[0]) : null;
}

/** Newest requested first; the cursor holds (requested_at, id) of the last item. */
export async function listExtractions(
  db: Db,
  filter: { userId?: string; state?: ExtractionState; limit: number; cursor?: string },
): Promise<Page<Extraction>> {
  const after = filter.cursor ? decodeInstantCursor(filter.cursor) : null;
  const limit = pageLimit(filter.limit);
  const req = db.request().input('take', sql.Int, limit + 1);
  const where: string[] = [];
  if (filter.userId !== undefined) {
    req.input('user_id', USER_ID_TYPE, filter.userId);
    where.push('user_id = @user_id');
  }
  if (filter.state !== undefined) {
    req.input('state', sql.VarChar(20), filter.state);
    where.push('state = @state');
  }
  if (after) {
    req.input('after_at', sql.DateTime2(3), after.at).input('after_id', EXTRACTION_ID_TYPE, after.id);
    where.push('(requested_at < @after_at OR (requested_at = @after_at AND id < @after_id))');
  }
  const r = await req.query<ExtractionRow>(
    `SELECT TOP (@take) ${EXTRACTION_COLUMNS} FROM extractions ${whereClause(where)}
     ORDER BY requested_at DESC, id DESC`,
  );
  const items = r.recordset.slice(0, limit).map(toExtraction);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: r.recordset.length > limit && last ? encodeInstantCursor(last.requestedAt, last.id) : null,
  };
}

export async function findPendingExtraction(db: Db, userId: string): Promise<Extraction | null> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .query<ExtractionRow>(
      `SELECT TOP (1) ${EXTRACTION_COLUMNS} FROM extractions
       WHERE user_id = @user_id AND state NOT IN ${FINAL}
       ORDER BY requested_at DESC, id DESC`,
    );
  return r.recordset[0] ? toExtraction(r.recordset[0]) : null;
}

/** Marks stale open extractions failed; returns the users touched (their gaps are then re-evaluated). */
export async function failStaleExtractions(db: Db, olderThan: Date): Promise<string[]> {
  const r = await db
    .request()
    .input('older_than', sql.DateTime2(3), olderThan)
    .query<{ user_id: string }>(
      `UPDATE extractions SET state = 'failed', reason = 'lost in transit', finished_at = SYSUTCDATETIME()
       OUTPUT inserted.user_id
       WHERE state NOT IN ${FINAL} AND requested_at < @older_than`,
    );
  return r.recordset.map((row) => row.user_id);
}

/**
 * The user's unsettled extractions in order (order_at, id), each with its baseline: the newest newest_played_at of
 * the user's 'done' extractions ordered before it (read newest first through extractions_done_baseline). Read inside
 * the transaction that holds the user's lock.
 */
export const GAP_CANDIDATES = `
SELECT e.id, e.state, e.page_full, e.oldest_played_at,
  (SELECT TOP (1) b.newest_played_at FROM extractions b
    WHERE b.user_id = e.user_id AND b.state = 'done' AND b.newest_played_at IS NOT NULL
      AND (b.order_at < e.order_at OR (b.order_at = e.order_at AND b.id < e.id))
    ORDER BY b.newest_played_at DESC) AS baseline
FROM extractions e
WHERE e.user_id = @user_id AND e.gap_settled_at IS NULL
ORDER BY e.order_at, e.id`;

export interface CandidateRow {
  id: string;
  state: ExtractionState;
  page_full: boolean | null;
  oldest_played_at: Date | null;
  baseline: Date | null;
}

export function toCandidates(rows: readonly CandidateRow[]): GapCandidate[] {
  return rows.map((row) => ({
    id: row.id,
    state: row.state,
    pageFull: row.page_full,
    oldestPlayedAt: row.oldest_played_at,
    baseline: row.baseline,
  }));
}

/** The decisions as one JSON document for OPENJSON (instants without the 'Z': DATETIME2 parses them as they are). */
export function decisionsJson(decisions: readonly GapDecision[]): string {
  return JSON.stringify(
    decisions.map((d) => ({
      extraction_id: d.extractionId,
      from_at: d.gap ? sqlInstant(d.gap.from) : null,
      to_at: d.gap ? sqlInstant(d.gap.to) : null,
    })),
  );
}

/** An instant as DATETIME2(3) reads it unambiguously from text: yyyy-mm-ddThh:mi:ss.mmm (UTC, no zone). */
export function sqlInstant(d: Date): string {
  return d.toISOString().slice(0, 23);
}

/**
 * Writes the decisions of `decideGaps` in one round trip: gaps upserted (one per extraction), every decided
 * extraction settled with its gap id. Returns the gaps recorded now.
 */
export async function settleGaps(db: Db, userId: string, decisions: readonly GapDecision[]): Promise<Gap[]> {
  if (decisions.length === 0) return [];
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, userId)
    .input('decisions', sql.NVarChar(sql.MAX), decisionsJson(decisions))
    .query<GapRow>(
      `SET NOCOUNT ON;
       DECLARE @d TABLE (
         extraction_id NVARCHAR(200) COLLATE Latin1_General_100_BIN2 NOT NULL PRIMARY KEY,
         from_at DATETIME2(3) NULL,
         to_at DATETIME2(3) NULL);
       INSERT INTO @d (extraction_id, from_at, to_at)
       SELECT extraction_id, from_at, to_at FROM OPENJSON(@decisions)
         WITH (extraction_id NVARCHAR(200) '$.extraction_id', from_at DATETIME2(3) '$.from_at', to_at DATETIME2(3) '$.to_at');
       DECLARE @recorded TABLE (id BIGINT NOT NULL);
       MERGE gaps WITH (HOLDLOCK) AS g
       USING (SELECT extraction_id, from_at, to_at FROM @d WHERE from_at IS NOT NULL) AS s
         ON g.extraction_id = s.extraction_id
       WHEN MATCHED THEN UPDATE SET from_at = s.from_at, to_at = s.to_at
       WHEN NOT MATCHED THEN INSERT (user_id, extraction_id, from_at, to_at)
         VALUES (@user_id, s.extraction_id, s.from_at, s.to_at)
       OUTPUT inserted.id INTO @recorded (id);
       UPDATE e SET gap_settled_at = SYSUTCDATETIME(), gap_id = COALESCE(g.id, e.gap_id)
       FROM extractions e
       JOIN @d d ON d.extraction_id = e.id
       LEFT JOIN gaps g ON g.extraction_id = d.extraction_id AND d.from_at IS NOT NULL;
       SELECT g.id, g.user_id, g.extraction_id, g.from_at, g.to_at, g.detected_at
       FROM gaps g JOIN @recorded r ON r.id = g.id ORDER BY g.id;`,
    );
  return r.recordset.map(toGap);
}

/** Inside a transaction holding the user's lock: settles what can be settled and records gaps (logged). */
export async function evaluateGaps(db: Db, userId: string, logger: Logger): Promise<Gap[]> {
  const r = await db.request().input('user_id', USER_ID_TYPE, userId).query<CandidateRow>(GAP_CANDIDATES);
  const gaps = await settleGaps(db, userId, decideGaps(toCandidates(r.recordset)));
  logGaps(logger, gaps);
  return gaps;
}

export function logGaps(logger: Logger, gaps: readonly Gap[]): void {
  for (const gap of gaps) {
    logger.warn(
      { userId: gap.userId, extractionId: gap.extractionId, from: gap.from, to: gap.to, gapId: gap.id },
      'gap recorded: plays between from and to may be lost',
    );
  }
}

/** Newest detected first; the cursor holds the last gap's id. */
export async function listGaps(
  db: Db,
  filter: { userId?: string; limit: number; cursor?: string },
): Promise<Page<Gap>> {
  const limit = pageLimit(filter.limit);
  const req = db.request().input('take', sql.Int, limit + 1);
  const where: string[] = [];
  if (filter.userId !== undefined) {
    req.input('user_id', USER_ID_TYPE, filter.userId);
    where.push('user_id = @user_id');
  }
  if (filter.cursor) {
    req.input('after_id', sql.BigInt, decodeIdCursor(filter.cursor));
    where.push('id < @after_id');
  }
  const r = await req.query<GapRow>(
    `SELECT TOP (@take) id, user_id, extraction_id, from_at, to_at, detected_at FROM gaps ${whereClause(where)}
     ORDER BY id DESC`,
  );
  const items = r.recordset.slice(0, limit).map(toGap);
  const last = items[items.length - 1];
  return { items, nextCursor: r.recordset.length > limit && last ? encodeIdCursor(last.id) : null };
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}

export function pageLimit(limit: number): number {
  return Math.max(1, Math.floor(limit));
}
