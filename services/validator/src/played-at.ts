// Parsing of Spotify's played_at. Spotify writes 2026-06-05T23:45:36.176Z, and now and then the same without
// milliseconds (FACTS.md fact 10). We accept any ISO-8601 date-time with a zone, reject what names a day or a time
// that does not exist (Date.parse would roll 2024-02-30 over to March 1st), and keep millisecond precision.

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The instant `value` names, or null when it is not a valid ISO-8601 date-time with a zone. */
export function parsePlayedAt(value: string): Date | null {
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const fraction = m[7] ?? '';
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const zone = m[8] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [h, min] = zone.slice(1).split(':').map(Number) as [number, number];
    if (h > 23 || min > 59) return null;
    offsetMinutes = sign * (h * 60 + min);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0-99 as 1900-1999
  date.setUTCHours(hour, minute, second, millis);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}
