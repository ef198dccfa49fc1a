// Dead letters: rejected records kept until an operator acts. One entry per (stage, rule, user, record fingerprint).
import sql from 'mssql';
import type { DeadLetterJob } from '@playledger/common';
import type { DeadLetter, DeadLetterFilter, Page } from '../types.ts';
import { decodeIdCursor, encodeIdCursor } from '../shared/cursor.ts';
import { recordFingerprint } from '../shared/play-rules.ts';
import type { Db } from './db.ts';
import { EXTRACTION_ID_TYPE, pageLimit, whereClause } from './extractions.ts';
import { DEAD_LETTER_COLUMNS, toDeadLetter, type DeadLetterRow } from './rows.ts';
import { USER_ID_TYPE } from './users.ts';

const OUTPUT_COLUMNS = DEAD_LETTER_COLUMNS.split(',')
  .map((c) => `inserted.${c.trim()}`)
  .join(', ');

/**
 * The same record rejected again for the same stage and rule (by a later extraction) counts once more and moves
 * last_seen_at; a redelivery of the same job (same extraction) changes nothing. The extraction kept is the latest.
 */
export async function recordDeadLetter(db: Db, job: DeadLetterJob): Promise<DeadLetter> {
  const r = await db
    .request()
    .input('user_id', USER_ID_TYPE, job.userId)
    .input('extraction_id', EXTRACTION_ID_TYPE, job.extractionId)
    .input('stage', sql.VarChar(20), job.stage)
    .input('rule', sql.NVarChar(200), job.rule)
    .input('field', sql.NVarChar(1000), job.field)
    .input('message', sql.NVarChar(sql.MAX), job.message)
    .input('record', sql.NVarChar(sql.MAX), JSON.stringify(job.record ?? null))
    .input('fingerprint', sql.Char(64), recordFingerprint(job.record ?? null))
    .input('seen_at', sql.DateTime2(3), new Date(job.rejectedAt))
    .query<DeadLetterRow>(
      `MERGE dead_letters WITH (HOLDLOCK) AS d
       USING (SELECT @stage AS stage, @rule AS [rule], @user_id AS user_id, @fingerprint AS fingerprint) AS s
         ON d.stage = s.stage AND d.[rule] = s.[rule] AND d.user_id = s.user_id AND d.fingerprint = s.fingerprint
       WHEN MATCHED THEN UPDATE SET
         times_seen = d.times_seen + CASE WHEN d.extraction_id = @extraction_id THEN 0 ELSE 1 END,
         last_seen_at = CASE WHEN d.last_seen_at > @seen_at THEN d.last_seen_at ELSE @seen_at END,
         extraction_id = @extraction_id,
         field = @field,
         message = @message
       WHEN NOT MATCHED THEN
         INSERT (user_id, extraction_id, stage, [rule], field, message, record, fingerprint, first_seen_at, last_seen_at)
         VALUES (@user_id, @extraction_id, @stage, @rule, @field, @message, @record, @fingerprint, @seen_at, @seen_at)
       OUTPUT ${OUTPUT_COLUMNS};`,
    );
  const row = r.recordset[0];
  if (!row) throw new Error('dead letter vanished while being recorded');
  return toDeadLetter(row);
}

/** Newest entries first (by id); `from`/`to` bound last_seen_at (from inclusive, to exclusive). */
export async function listDeadLetters(
  db: Db,
  filter: DeadLetterFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<DeadLetter>> {
  const limit = pageLimit(page.limit);
  const req = db.request().input('take', sql.Int, limit + 1);
  const where: string[] = [];
  if (filter.stage !== undefined) {
    req.input('stage', sql.VarChar(20), filter.stage);
    where.push('stage = @stage');
  }
  if (filter.rule !== undefined) {
    req.input('rule', sql.NVarChar(200), filter.rule);
    where.push('[rule] = @rule');
  }
  if (filter.userId !== undefined) {
    req.input('user_id', USER_ID_TYPE, filter.userId);
    where.push('user_id = @user_id');
  }
  if (filter.from !== undefined) {
    req.input('from', sql.DateTime2(3), filter.from);
    where.push('last_seen_at >= @from');
  }
  if (filter.to !== undefined) {
    req.input('to', sql.DateTime2(3), filter.to);
    where.push('last_seen_at < @to');
  }
  if (filter.status !== undefined) {
    req.input('status', sql.VarChar(20), filter.status);
    where.push('status = @status');
  }
  if (page.cursor) {
    req.input('after_id', sql.BigInt, decodeIdCursor(page.cursor));
    where.push('id < @after_id');
  }
  const r = await req.query<DeadLetterRow>(
    `SELECT TOP (@take) ${DEAD_LETTER_COLUMNS} FROM dead_letters ${whereClause(where)} ORDER BY id DESC`,
  );
  const items = r.recordset.slice(0, limit).map(toDeadLetter);
  const last = items[items.length - 1];
  return { items, nextCursor: r.recordset.length > limit && last ? encodeIdCursor(last.id) : null };
}

/** ids are BIGINT: anything else names no dead letter. */
export function validId(id: string): boolean {
  return /^\d{1,18}$/.test(id);
}

export async function getDeadLetter(db: Db, id: string): Promise<DeadLetter | null> {
  if (!validId(id)) return null;
  const r = await db
    .request()
    .input('id', sql.BigInt, id)
    .query<DeadLetterRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = @id`);
  return r.recordset[0] ? toDeadLetter(r.recordset[0]) : null;
}

export async function correctDeadLetter(db: Db, id: string, correction: unknown): Promise<DeadLetter | null> {
  if (!validId(id)) return null;
  const r = await db
    .request()
    .input('id', sql.BigInt, id)
    .input('correction', sql.NVarChar(sql.MAX), JSON.stringify(correction ?? null))
    .query<DeadLetterRow>(`UPDATE dead_letters SET correction = @correction OUTPUT ${OUTPUT_COLUMNS} WHERE id = @id`);
  return r.recordset[0] ? toDeadLetter(r.recordset[0]) : null;
}

export async function markDeadLetterReplayed(db: Db, id: string): Promise<void> {
  if (!validId(id)) return;
  await db
    .request()
    .input('id', sql.BigInt, id)
    .query(`UPDATE dead_letters SET status = 'replayed', replayed_at = SYSUTCDATETIME() WHERE id = @id`);
}

export async function resolveDeadLetter(db: Db, id: string): Promise<void> {
  if (!validId(id)) return;
  await db.request().input('id', sql.BigInt, id).query(`UPDATE dead_letters SET status = 'resolved' WHERE id = @id`);
}

export async function deleteDeadLetter(db: Db, id: string): Promise<boolean> {
  if (!validId(id)) return false;
  // @@ROWCOUNT, not rowsAffected: a pooled connection may carry SET NOCOUNT ON
  const r = await db
    .request()
    .input('id', sql.BigInt, id)
    .query<{ deleted: number }>('DELETE FROM dead_letters WHERE id = @id; SELECT @@ROWCOUNT AS deleted;');
  return (r.recordset[0]?.deleted ?? 0) > 0;
}
