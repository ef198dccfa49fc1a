// Plays as CSV or NDJSON lines, produced one at a time from the store's stream: Readable.from pulls the next
// play only when the socket has drained, so memory stays flat whatever the size of the export.
import { Readable } from 'node:stream';
import type { StoredPlay } from '@playledger/store';

export type ExportFormat = 'csv' | 'ndjson';

export const CSV_COLUMNS = [
  'played_at',
  'track_uri',
  'track_id',
  'track_name',
  'artist_names',
  'artist_uris',
  'album_name',
  'album_uri',
  'duration_ms',
  'explicit',
  'isrc',
  'is_local',
  'context_type',
  'context_uri',
  'extraction_id',
] as const;

export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(p: StoredPlay): string {
  const t = p.track;
  return `${[
    new Date(p.playedAt).toISOString(),
    t.uri,
    t.id,
    t.name,
    t.artists.map((a) => a.name).join('; '),
    t.artists.map((a) => a.uri ?? '').join(' '),
    t.album?.name,
    t.album?.uri,
    t.durationMs,
    t.explicit,
    t.isrc,
    t.isLocal,
    p.context?.type,
    p.context?.uri,
    p.extractionId,
  ]
    .map(csvField)
    .join(',')}\r\n`;
}

export function ndjsonRow(p: StoredPlay): string {
  return `${JSON.stringify({
    playedAt: new Date(p.playedAt).toISOString(),
    track: p.track,
    context: p.context,
    extractionId: p.extractionId,
    loadedAt: p.loadedAt.toISOString(),
  })}\n`;
}

/** Lines are gathered into chunks of about this many characters: far fewer socket writes than one per play. */
const CHUNK_CHARS = 16 * 1024;

async function* chunks(plays: AsyncIterable<StoredPlay>, format: ExportFormat): AsyncGenerator<string> {
  let chunk = format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '';
  for await (const play of plays) {
    chunk += format === 'csv' ? csvRow(play) : ndjsonRow(play);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

export function exportStream(plays: AsyncIterable<StoredPlay>, format: ExportFormat): Readable {
  // objectMode: each yielded chunk is one item; at most 4 chunks (about 64 KB) wait for the socket to drain.
  return Readable.from(chunks(plays, format), { objectMode: true, highWaterMark: 4 });
}
