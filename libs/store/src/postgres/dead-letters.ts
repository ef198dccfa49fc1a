// Dead letters: rejected records kept until an operator acts. One entry per (stage, rule, user, record fingerprint).
import type { DeadLetterJob } from '@playledger/common';
import type { DeadLetter, DeadLetterFilter, Page } from '../types.ts';
import { decodeIdCursor, encodeIdCursor } from '../shared/cursor.ts';
import { recordFingerprint } from '../shared/play-rules.ts';
import type { Queryable } from './db.ts';
import { toDeadLetter, type DeadLetterRow } from './rows.ts';

/**
 * The same record rejected again for the same stage and rule (by a later extraction) counts once more and moves
 * last_seen_at; a redelivery of the same job (same extraction) changes nothing. The extraction kept is the latest.
 */
export async function recordDeadLetter(db: Queryable, job: DeadLetterJob): Promise<DeadLetter> {
  const r = await db.query<DeadLetterRow>(
    `INSERT INTO dead_letters AS d (user_id, extraction_id, stage, rule, field, message, record, fingerprint,
       first_seen_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $9)
     ON CONFLICT (stage, rule, user_id, fingerprint) DO UPDATE SET
       times_seen = d.times_seen + CASE WHEN d.extraction_id = excluded.extraction_id THEN 0 ELSE 1 END,
       last_seen_at = greatest(d.last_seen_at, excluded.last_seen_at),
       extraction_id = excluded.extraction_id,
       field = excluded.field,
       message = excluded.message
     RETURNING *`,
    [
      job.userId,
      job.extractionId,
      job.stage,
      job.rule,
      job.field,
      job.message,
      JSON.stringify(job.record ?? null),
      recordFingerprint(job.record ?? null),
      new Date(job.rejectedAt),
    ],
  );
  return toDeadLetter(r.rows[0] as DeadLetterRow);
}

/** Newest entries first (by id); `from`/`to` bound last_seen_at (from inclusive, to exclusive). */
export async function listDeadLetters(
  db: Queryable,
  filter: DeadLetterFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<DeadLetter>> {
  const limit = Math.max(1, Math.floor(page.limit));
  const r = await db.query<DeadLetterRow>(
    `SELECT * FROM dead_letters
     WHERE ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR rule = $2) AND ($3::text IS NULL OR user_id = $3)
       AND ($4::timestamptz IS NULL OR last_seen_at >= $4) AND ($5::timestamptz IS NULL OR last_seen_at < $5)
       AND ($6::text IS NULL OR status = $6) AND ($7::bigint IS NULL OR id < $7)
     ORDER BY id DESC LIMIT $8`,
    [
      filter.stage ?? null,
      filter.rule ?? null,
      filter.userId ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.status ?? null,
      page.cursor ? decodeIdCursor(page.cursor) : null,
      limit + 1,
    ],
  );
  const items = r.rows.slice(0, limit).map(toDeadLetter);
  const last = items[items.length - 1];
  return { items, nextCursor: r.rows.length > limit && last ? encodeIdCursor(last.id) : null };
}

function validId(id: string): boolean {
  return /^\d{1,18}$/.test(id);
}

export async function getDeadLetter(db: Queryable, id: string): Promise<DeadLetter | null> {
  if (!validId(id)) return null;
  const r = await db.query<DeadLetterRow>('SELECT * FROM dead_letters WHERE id = $1', [id]);
  return r.rows[0] ? toDeadLetter(r.rows[0]) : null;
}

export async function correctDeadLetter(db: Queryable, id: string, correction: unknown): Promise<DeadLetter | null> {
  if (!validId(id)) return null;
  const r = await db.query<DeadLetterRow>('UPDATE dead_letters SET correction = $2::jsonb WHERE id = $1 RETURNING *', [
    id,
    JSON.stringify(correction ?? null),
  ]);
  return r.rows[0] ? toDeadLetter(r.rows[0]) : null;
}

export async function markDeadLetterReplayed(db: Queryable, id: string): Promise<void> {
  if (!validId(id)) return;
  await db.query(`UPDATE dead_letters SET status = 'replayed', replayed_at = now() WHERE id = $1`, [id]);
}

export async function resolveDeadLetter(db: Queryable, id: string): Promise<void> {
  if (!validId(id)) return;
  await db.query(`UPDATE dead_letters SET status = 'resolved' WHERE id = $1`, [id]);
}

export async function deleteDeadLetter(db: Queryable, id: string): Promise<boolean> {
  if (!validId(id)) return false;
  const r = await db.query('DELETE FROM dead_letters WHERE id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}
