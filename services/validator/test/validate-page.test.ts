import { describe, expect, it } from 'vitest';
import Value from 'typebox/value';
import { DeadLetterJob, LoadJob } from '@playledger/common';
import { FUTURE_TOLERANCE_MS, ValidationRules, loadJobIdFor, parsePlayedAt, validatePage } from '../src/index.ts';
import { localFileItem, rawJob, trackItem } from './fixtures.ts';

const NOW = new Date('2026-06-06T00:00:00.000Z');

function validate(items: unknown[], overrides = {}) {
  const result = validatePage(rawJob(items, overrides), NOW);
  // whatever goes out must satisfy the queue contracts
  expect(Value.Check(LoadJob, result.load)).toBe(true);
  for (const d of result.deadLetters) expect(Value.Check(DeadLetterJob, d)).toBe(true);
  return result;
}

/** the rule and field one bad item is rejected with */
function rejection(item: unknown) {
  const { load, deadLetters } = validate([item]);
  expect(load.plays).toHaveLength(0);
  expect(deadLetters).toHaveLength(1);
  const [d] = deadLetters;
  return { rule: d!.rule, field: d!.field, message: d!.message };
}

function withTrack(patch: Record<string, unknown>, remove: string[] = []) {
  const item = trackItem(1, '2026-06-05T23:00:00.123Z');
  const track: Record<string, unknown> = { ...item.track, ...patch };
  for (const key of remove) delete track[key];
  return { ...item, track };
}

describe('validatePage: the page', () => {
  it('passes an empty page on as a load job with no plays (no new plays is normal)', () => {
    const { load, deadLetters } = validate([]);
    expect(deadLetters).toEqual([]);
    expect(load).toEqual({
      extractionId: 'ext-1',
      userId: 'user-1',
      fetchedAt: '2026-06-06T00:00:00.000Z',
      plays: [],
      page: {
        fetched: 0,
        full: false,
        oldestPlayedAt: null,
        newestPlayedAt: null,
        deadLettered: 0,
        duplicatesCollapsed: 0,
      },
    });
  });

  it('calls a page full when it holds as many items as were asked for', () => {
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => trackItem(i, new Date(NOW.getTime() - (i + 1) * 60_000).toISOString()));
    expect(validate(items(50)).load.page.full).toBe(true);
    expect(validate(items(49)).load.page.full).toBe(false);
    expect(validate(items(20), { limit: 20 }).load.page.full).toBe(true);
  });

  it('reports the oldest and newest valid played_at, ignoring rejected items', () => {
    const { load } = validate([
      trackItem(1, '2026-06-05T23:00:00.500Z'),
      trackItem(2, '2027-01-01T00:00:00.000Z'), // future: rejected
      trackItem(3, '2026-06-05T21:00:00Z'),
      trackItem(4, '2026-06-05T22:00:00.000Z'),
    ]);
    expect(load.page.newestPlayedAt).toBe('2026-06-05T23:00:00.500Z');
    expect(load.page.oldestPlayedAt).toBe('2026-06-05T21:00:00.000Z');
    expect(load.page.deadLettered).toBe(1);
    expect(load.page.fetched).toBe(4);
  });

  it('collapses exact duplicates (same track, same instant) and counts them, keeping the first', () => {
    const first = trackItem(1, '2026-06-05T23:45:36.176Z');
    const again = trackItem(1, '2026-06-05T23:45:36.176Z', { external_ids: { isrc: 'OTHER' } });
    const sameInstantOtherSpelling = trackItem(1, '2026-06-05T23:45:36.176000Z');
    const { load, deadLetters } = validate([first, again, sameInstantOtherSpelling]);
    expect(deadLetters).toEqual([]);
    expect(load.plays).toHaveLength(1);
    expect(load.plays[0]!.track.isrc).toBe('ISRC1');
    expect(load.page.duplicatesCollapsed).toBe(2);
    expect(load.page.fetched).toBe(3);
  });

  it('keeps two different tracks with one played_at as two plays', () => {
    const { load } = validate([trackItem(1, '2026-06-05T23:45:36.176Z'), trackItem(2, '2026-06-05T23:45:36.176Z')]);
    expect(load.plays.map((p) => p.track.uri)).toEqual(['spotify:track:t1', 'spotify:track:t2']);
    expect(load.page.duplicatesCollapsed).toBe(0);
  });

  it('keeps the same track at two instants, even close together (the 2-second rule is the store’s)', () => {
    const { load } = validate([trackItem(1, '2026-06-05T23:45:36.500Z'), trackItem(1, '2026-06-05T23:45:36.176Z')]);
    expect(load.plays).toHaveLength(2);
  });

  it('sets one bad record aside and passes the rest of the page on', () => {
    const bad = withTrack({}, ['uri']);
    const { load, deadLetters } = validate([
      trackItem(1, '2026-06-05T23:00:00.000Z'),
      bad,
      trackItem(2, '2026-06-05T22:00:00.000Z'),
    ]);
    expect(load.plays.map((p) => p.track.uri)).toEqual(['spotify:track:t1', 'spotify:track:t2']);
    expect(load.page.deadLettered).toBe(1);
    expect(deadLetters).toEqual([
      {
        extractionId: 'ext-1',
        userId: 'user-1',
        stage: 'validator',
        rule: 'missing-value',
        field: '/track/uri',
        message: 'track.uri is missing: the track URI identifies the play.',
        record: bad,
        rejectedAt: NOW.toISOString(),
      },
    ]);
  });

  it('dead-letters a bad record seen twice on one page once, and counts the copy as a duplicate', () => {
    const bad = { track: null, played_at: '2026-06-05T23:00:00.000Z', context: null };
    const { load, deadLetters } = validate([
      bad,
      { context: null, played_at: '2026-06-05T23:00:00.000Z', track: null },
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(load.page.duplicatesCollapsed).toBe(1);
    expect(load.page.deadLettered).toBe(1);
  });

  it('passes replayOf on only when every record of the replay passed', () => {
    expect(validate([trackItem(1, '2026-06-05T23:00:00.000Z')], { replayOf: 'dl-7' }).load.replayOf).toBe('dl-7');
    expect(validate([withTrack({ name: null })], { replayOf: 'dl-7' }).load.replayOf).toBeUndefined();
    expect(validate([trackItem(1, '2026-06-05T23:00:00.000Z')]).load).not.toHaveProperty('replayOf');
  });
});

describe('validatePage: normalizing a play', () => {
  it('keeps every artist in order, the album with its artists, duration, explicit, ISRC, numbers and the context uri', () => {
    const item = {
      ...trackItem(7, '2026-06-05T23:45:36.176Z', { explicit: true, disc_number: 2 }),
      context: {
        type: 'artist',
        href: 'https://api.spotify.com/v1/artists/null',
        external_urls: { spotify: 'https://open.spotify.com/artist/a9' },
        uri: 'spotify:artist:a9',
      },
    };
    const { load } = validate([item]);
    expect(load.plays).toEqual([
      {
        playedAt: '2026-06-05T23:45:36.176Z',
        track: {
          uri: 'spotify:track:t7',
          id: 't7',
          name: 'Track 7',
          durationMs: 200_007,
          explicit: true,
          isrc: 'ISRC7',
          isLocal: false,
          discNumber: 2,
          trackNumber: 7,
          album: {
            uri: 'spotify:album:al7',
            id: 'al7',
            name: 'Album 7',
            albumType: 'album',
            releaseDate: '2024-01-02',
            artists: [{ uri: 'spotify:artist:a1', id: 'a1', name: 'Artist 1' }],
          },
          artists: [
            { uri: 'spotify:artist:a1', id: 'a1', name: 'Artist 1' },
            { uri: 'spotify:artist:a2', id: 'a2', name: 'Artist 2' },
          ],
        },
        context: { type: 'artist', uri: 'spotify:artist:a9' },
      },
    ]);
  });

  it('writes played_at as a UTC instant with milliseconds', () => {
    const { load } = validate([
      trackItem(1, '2024-12-25T01:30:30Z'),
      trackItem(2, '2024-12-25T03:30:30.5+02:00'),
      trackItem(3, '2024-12-25T01:00:00.123456789Z'),
    ]);
    expect(load.plays.map((p) => p.playedAt)).toEqual([
      '2024-12-25T01:30:30.000Z',
      '2024-12-25T01:30:30.500Z',
      '2024-12-25T01:00:00.123Z',
    ]);
  });

  it('keeps a local file (no Spotify id) as a play under its URI', () => {
    const { load, deadLetters } = validate([localFileItem('2026-06-05T23:00:00.000Z')]);
    expect(deadLetters).toEqual([]);
    expect(load.plays).toHaveLength(1);
    const track = load.plays[0]!.track;
    expect(track).toMatchObject({
      uri: 'spotify:local:Home+Band:My+Album:Demo+Take:181',
      id: null,
      isLocal: true,
      isrc: null,
    });
    expect(track.artists).toEqual([{ uri: null, id: null, name: 'Home Band' }]);
    expect(track.album).toMatchObject({ uri: null, id: null, name: 'My Album', artists: [] });
  });

  it('accepts what Spotify may leave out: album, external_ids, explicit, numbers, context', () => {
    const { load } = validate([
      withTrack({ album: null, external_ids: undefined }, ['explicit', 'disc_number', 'track_number', 'is_local']),
    ]);
    expect(load.plays[0]!.track).toMatchObject({
      album: null,
      isrc: null,
      explicit: false,
      discNumber: null,
      trackNumber: null,
      isLocal: false,
    });
    expect(load.plays[0]!.context).toBeNull();
  });

  it('passes only what the loader needs (no images, markets, popularity or hrefs)', () => {
    const json = JSON.stringify(validate([trackItem(1, '2026-06-05T23:00:00.000Z')]).load);
    for (const dropped of ['images', 'available_markets', 'popularity', 'href', 'preview_url', 'external_urls']) {
      expect(json).not.toContain(dropped);
    }
  });
});

describe('validatePage: every rule', () => {
  const at = '2026-06-05T23:00:00.000Z';
  const cases: [string, unknown, string, string][] = [
    ['an item that is null', null, ValidationRules.notAnObject, ''],
    ['an item that is text', 'track', ValidationRules.notAnObject, ''],
    ['an item that is a list', [trackItem(1, at)], ValidationRules.notAnObject, ''],
    ['no track', { played_at: at, context: null }, ValidationRules.missingValue, '/track'],
    ['a null track', { track: null, played_at: at, context: null }, ValidationRules.missingValue, '/track'],
    [
      'a track that is text',
      { track: 'spotify:track:x', played_at: at, context: null },
      ValidationRules.invalidValue,
      '/track',
    ],
    ['an episode', withTrack({ type: 'episode', uri: 'spotify:episode:e1' }), ValidationRules.notATrack, '/track/type'],
    ['no track.type', withTrack({}, ['type']), ValidationRules.missingValue, '/track/type'],
    ['no track.uri', withTrack({}, ['uri']), ValidationRules.missingValue, '/track/uri'],
    ['an empty track.uri', withTrack({ uri: '  ' }), ValidationRules.missingValue, '/track/uri'],
    ['a track.uri that is a number', withTrack({ uri: 42 }), ValidationRules.invalidValue, '/track/uri'],
    ['no track.name', withTrack({}, ['name']), ValidationRules.missingValue, '/track/name'],
    ['a null track.name', withTrack({ name: null }), ValidationRules.missingValue, '/track/name'],
    ['no track.duration_ms', withTrack({}, ['duration_ms']), ValidationRules.missingValue, '/track/duration_ms'],
    ['a duration_ms in text', withTrack({ duration_ms: '200000' }), ValidationRules.invalidValue, '/track/duration_ms'],
    ['a negative duration_ms', withTrack({ duration_ms: -1 }), ValidationRules.invalidValue, '/track/duration_ms'],
    ['a fractional duration_ms', withTrack({ duration_ms: 1.5 }), ValidationRules.invalidValue, '/track/duration_ms'],
    ['explicit in text', withTrack({ explicit: 'yes' }), ValidationRules.invalidValue, '/track/explicit'],
    ['no artists', withTrack({}, ['artists']), ValidationRules.missingValue, '/track/artists'],
    ['artists not a list', withTrack({ artists: 'Artist 1' }), ValidationRules.invalidValue, '/track/artists'],
    [
      'an artist without a name',
      withTrack({ artists: [{ id: 'a', uri: 'spotify:artist:a', name: 'A' }, { id: 'b' }] }),
      ValidationRules.missingValue,
      '/track/artists/1/name',
    ],
    [
      'an album without a name',
      withTrack({ album: { id: 'al', uri: 'spotify:album:al' } }),
      ValidationRules.missingValue,
      '/track/album/name',
    ],
    [
      'an isrc that is a number',
      withTrack({ external_ids: { isrc: 7 } }),
      ValidationRules.invalidValue,
      '/track/external_ids/isrc',
    ],
    ['no played_at', { ...trackItem(1, at), played_at: undefined }, ValidationRules.missingValue, '/played_at'],
    ['a null played_at', { ...trackItem(1, at), played_at: null }, ValidationRules.missingValue, '/played_at'],
    [
      'a played_at that is a number',
      trackItem(1, 1_780_000_000_000 as unknown as string),
      ValidationRules.playedAtUnparseable,
      '/played_at',
    ],
    ['a played_at in words', trackItem(1, 'yesterday'), ValidationRules.playedAtUnparseable, '/played_at'],
    [
      'a played_at without a zone',
      trackItem(1, '2026-06-05T23:00:00.000'),
      ValidationRules.playedAtUnparseable,
      '/played_at',
    ],
    [
      'a played_at on 30 February',
      trackItem(1, '2024-02-30T10:00:00.000Z'),
      ValidationRules.playedAtUnparseable,
      '/played_at',
    ],
    [
      'a played_at at 24:00',
      trackItem(1, '2024-02-10T24:00:00.000Z'),
      ValidationRules.playedAtUnparseable,
      '/played_at',
    ],
    [
      'a played_at a minute in the future',
      trackItem(1, '2026-06-06T00:01:00.000Z'),
      ValidationRules.playedAtInFuture,
      '/played_at',
    ],
    ['a played_at next year', trackItem(1, '2027-06-06T00:00:00.000Z'), ValidationRules.playedAtInFuture, '/played_at'],
    [
      'a context without uri',
      { ...trackItem(1, at), context: { type: 'playlist', href: 'x' } },
      ValidationRules.missingValue,
      '/context/uri',
    ],
    [
      'a context that is text',
      { ...trackItem(1, at), context: 'spotify:playlist:p' },
      ValidationRules.invalidValue,
      '/context',
    ],
  ];

  it.each(cases)('rejects %s', (_name, item, rule, field) => {
    const r = rejection(item);
    expect({ rule: r.rule, field: r.field }).toEqual({ rule, field });
    expect(r.message.length).toBeGreaterThan(20);
    expect(r.message).not.toContain('undefined');
  });

  it('explains each rejection in words a person understands', () => {
    expect(rejection(withTrack({ duration_ms: 'long' })).message).toBe(
      'track.duration_ms should be a whole number of at least 0, but is the text "long".',
    );
    expect(rejection(withTrack({ type: 'episode' })).message).toBe(
      'The item is not a track but "episode" (track.type): only tracks are kept as plays.',
    );
    expect(rejection(trackItem(1, 'yesterday')).message).toBe(
      'played_at should be an ISO-8601 date and time such as 2026-06-05T23:45:36.176Z, but is the text "yesterday".',
    );
    expect(rejection(trackItem(1, '2026-06-06T00:01:00.000Z')).message).toBe(
      'played_at 2026-06-06T00:01:00.000Z lies in the future (validated at 2026-06-06T00:00:00.000Z): a play is only listed once it has ended.',
    );
    expect(rejection(withTrack({ artists: [{ id: 'b' }] })).message).toBe(
      'track.artists[0].name is missing: every artist needs a name.',
    );
  });

  it('accepts a played_at a little ahead of the clock (within the tolerance)', () => {
    const ahead = new Date(NOW.getTime() + FUTURE_TOLERANCE_MS).toISOString();
    expect(validate([trackItem(1, ahead)]).load.plays).toHaveLength(1);
  });
});

describe('parsePlayedAt', () => {
  it('reads both of Spotify’s spellings and zone offsets', () => {
    expect(parsePlayedAt('2024-12-25T01:30:30Z')?.toISOString()).toBe('2024-12-25T01:30:30.000Z');
    expect(parsePlayedAt('2026-06-05T23:45:36.176Z')?.toISOString()).toBe('2026-06-05T23:45:36.176Z');
    expect(parsePlayedAt('2026-06-06T01:45:36.176+02:00')?.toISOString()).toBe('2026-06-05T23:45:36.176Z');
    expect(parsePlayedAt('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('rejects days and times that do not exist', () => {
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-01-32T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:60Z',
      '2024-01-01',
      '',
    ]) {
      expect(parsePlayedAt(bad), bad).toBeNull();
    }
  });
});

describe('loadJobIdFor', () => {
  it('names the load job after the extraction, and a replay after its own validation job', () => {
    expect(loadJobIdFor(rawJob([]), 'raw-ext-1')).toBe('load-ext-1');
    expect(loadJobIdFor(rawJob([], { extractionId: 'sched-repeat:user:a:1' }), 'x')).toBe('load-sched-repeat-user-a-1');
    expect(loadJobIdFor(rawJob([], { replayOf: '42' }), '17')).toBe('load-ext-1-replay-42-17');
  });
});
