// Parsing of Spotify's played_at. Spotify writes 2026-06-05T23:45:36.176Z, and now and then the same without
// milliseconds (FACTS.md fact 10). We accept any ISO-8601 date-time with a zone, reject what names a day or a time
// that does not exist (Date.parse would roll 2024-02-30 over to March 1st), and keep millisecond precision.

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** The instant `value` names, or null when it is not a valid ISO-8601 date-time with a zone. */
export function parsePlayedAt(value: string): Date | null {
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const h = Number(zone.slice(1, 3));
    const min = Number(zone.slice(4, 6));
    if (h > 23 || min > 59) return null;
    offsetMinutes = sign * (h * 60 + min);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0-99 as 1900-1999
  if (date.getUTCDate() !== day) return null; // a day the month does not have (it rolled over into the next)
  date.setUTCHours(hour, minute, second, millis);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}
