// Building a recently-played page from the visible items: limit, exclusive cursors, next and href as FACTS 6-8.
import type { PlayHistoryItem, RecentlyPlayedPage } from './spotify-types.ts';

export interface PageQuery {
  limit: number;
  after?: number;
  before?: number;
}

export type QueryParse = { ok: true; query: PageQuery } | { ok: false; message: string };

const INTEGER = /^-?\d+$/;

export function parsePageQuery(q: Record<string, string | undefined>): QueryParse {
  let limit = 20;
  if (q.limit !== undefined) {
    if (!INTEGER.test(q.limit)) return { ok: false, message: 'Invalid limit' };
    limit = Number(q.limit);
    if (limit < 1 || limit > 50) return { ok: false, message: 'Invalid limit' };
  }
  if (q.after !== undefined && q.before !== undefined) {
    return { ok: false, message: 'Only one of after or before may be specified' };
  }
  for (const name of ['after', 'before'] as const) {
    const v = q[name];
    if (v !== undefined && !INTEGER.test(v)) return { ok: false, message: `Invalid ${name}` };
  }
  const query: PageQuery = { limit };
  if (q.after !== undefined) query.after = Number(q.after);
  if (q.before !== undefined) query.before = Number(q.before);
  return { ok: true, query };
}

export interface VisibleItem {
  playedAtMs: number;
  item: PlayHistoryItem;
}

/** `visible` is newest first. */
export function buildPage(visible: readonly VisibleItem[], query: PageQuery, endpointUrl: string): RecentlyPlayedPage {
  let chosen: VisibleItem[];
  let cursorParam: string;
  if (query.after !== undefined) {
    const after = query.after;
    const newer = visible.filter((v) => v.playedAtMs > after);
    chosen = newer.slice(Math.max(0, newer.length - query.limit));
    cursorParam = `after=${after}&`;
  } else if (query.before !== undefined) {
    const before = query.before;
    chosen = visible.filter((v) => v.playedAtMs < before).slice(0, query.limit);
    cursorParam = `before=${before}&`;
  } else {
    chosen = visible.slice(0, query.limit);
    cursorParam = '';
  }
  const href = `${endpointUrl}?${cursorParam}limit=${query.limit}`;
  const newest = chosen[0];
  const oldest = chosen.at(-1);
  if (!newest || !oldest) return { items: [], next: null, cursors: null, limit: query.limit, href };
  const cursors = { after: String(newest.playedAtMs), before: String(oldest.playedAtMs) };
  const next =
    query.after !== undefined
      ? `${endpointUrl}?after=${cursors.after}&limit=${query.limit}`
      : `${endpointUrl}?before=${cursors.before}&limit=${query.limit}`;
  return { items: chosen.map((v) => v.item), next, cursors, limit: query.limit, href };
}
