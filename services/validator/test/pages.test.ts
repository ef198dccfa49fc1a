// The real-shaped pages of ../shared/spotify/pages through the validator.
import { describe, expect, it } from 'vitest';
import Value from 'typebox/value';
import { LoadJob } from '@playledger/common';
import { validatePage } from '../src/index.ts';
import { rawJob, readPage } from './fixtures.ts';

const NOW = new Date('2026-07-01T00:00:00.000Z');

function distinctPlays(items: unknown[]): number {
  const keys = new Set(
    (items as { track: { uri: string }; played_at: string }[]).map((i) => `${i.track.uri} ${Date.parse(i.played_at)}`),
  );
  return keys.size;
}

describe('the real-shaped pages', () => {
  it('empty.json: a load job with no plays', () => {
    const page = readPage('empty.json');
    const { load, deadLetters } = validatePage(rawJob(page.items, { limit: page.limit }), NOW);
    expect(deadLetters).toEqual([]);
    expect(load.plays).toEqual([]);
    expect(load.page).toMatchObject({ fetched: 0, full: false, oldestPlayedAt: null, newestPlayedAt: null });
  });

  it('after-duplicates.json: the exact duplicate collapsed, two tracks at one instant kept', () => {
    const page = readPage('after-duplicates.json');
    const { load, deadLetters } = validatePage(rawJob(page.items, { limit: page.limit }), NOW);
    expect(Value.Check(LoadJob, load)).toBe(true);
    expect(deadLetters).toEqual([]);
    expect(load.page.fetched).toBe(8);
    expect(load.plays).toHaveLength(7);
    expect(load.page.duplicatesCollapsed).toBe(1);
    const atOneInstant = load.plays.filter((p) => p.playedAt === '2025-05-02T03:02:36.176Z');
    expect(atOneInstant).toHaveLength(2);
    expect(new Set(atOneInstant.map((p) => p.track.uri)).size).toBe(2);
    expect(load.plays.filter((p) => p.context !== null).every((p) => p.context?.type === 'playlist')).toBe(true);
    expect(load.page).toMatchObject({
      full: false,
      newestPlayedAt: '2025-05-02T03:14:17.044Z',
      oldestPlayedAt: '2025-05-01T20:27:15.127Z',
    });
  });

  it('after-mixed-precision.json: the played_at without milliseconds becomes .000Z', () => {
    const page = readPage('after-mixed-precision.json');
    const { load, deadLetters } = validatePage(rawJob(page.items, { limit: page.limit }), NOW);
    expect(deadLetters).toEqual([]);
    expect(load.plays).toHaveLength(22);
    expect(load.plays.map((p) => p.playedAt)).toContain('2023-11-21T04:47:30.000Z');
    expect(load.plays.every((p) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(p.playedAt))).toBe(true);
    expect(load.plays.filter((p) => p.context?.type === 'album')).toHaveLength(21);
  });

  it('before-full.json: a full page of 50, every distinct play kept with all its artists', () => {
    const page = readPage('before-full.json');
    const { load, deadLetters } = validatePage(rawJob(page.items, { limit: page.limit }), NOW);
    expect(Value.Check(LoadJob, load)).toBe(true);
    expect(deadLetters).toEqual([]);
    expect(load.page.full).toBe(true);
    expect(load.plays).toHaveLength(distinctPlays(page.items));
    const raw = page.items as { track: { artists: { name: string }[] } }[];
    load.plays.forEach((p, i) => {
      if (load.page.duplicatesCollapsed === 0)
        expect(p.track.artists.map((a) => a.name)).toEqual(raw[i]!.track.artists.map((a) => a.name));
    });
  });
});
