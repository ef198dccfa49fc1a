// The contract test: the schemas the client uses are the OpenAPI file's plus exactly the listed live differences;
// the real-shaped pages pass; broken responses fail; and every kind of response the simulator gives passes both the
// client's schemas and the YAML-with-differences (see contract-sim.test.ts for the simulator part).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIVE_DIFFERENCES, LiveSchemas, applyLiveDifferences, checkers } from '../src/index.ts';
import { SpecTargets } from '../src/spec-schemas.ts';
import { api, pageFactProblems, realPage, realPages, verdict, yamlRaw, yamlSpec } from './contract-support.ts';
import { canonical } from './openapi.ts';

const targets = ['recently-played', 'me', 'error'] as const;

/** What getRecentlyPlayedRaw checks: the envelope, then each item; must agree with the whole-page schema. */
function envelopeAndItems(body: unknown): boolean {
  if (!checkers.recentlyPlayedEnvelope.check(body)) return false;
  return body.items.every((item) => checkers.playHistoryItem.check(item));
}

describe('the schemas follow the OpenAPI file', () => {
  it('the operations answer with the components the spec schemas are written from', () => {
    const op = api.raw('#/paths/~1me~1player~1recently-played/get') as {
      responses: Record<string, { $ref: string }>;
    };
    expect(op.responses['200']?.$ref).toBe('#/components/responses/CursorPagedPlayHistory');
    expect(api.raw('#/components/responses/CursorPagedPlayHistory/content/application~1json/schema')).toEqual({
      $ref: '#/components/schemas/CursorPagingPlayHistoryObject',
    });
    const me = api.raw('#/paths/~1me/get') as { responses: Record<string, { $ref: string }> };
    expect(me.responses['200']?.$ref).toBe('#/components/responses/OnePrivateUser');
    expect(api.raw('#/components/responses/OnePrivateUser/content/application~1json/schema')).toEqual({
      $ref: '#/components/schemas/PrivateUserObject',
    });
    // 401, 403 and 429 share one error body shape.
    for (const name of ['Unauthorized', 'Forbidden', 'TooManyRequests']) {
      expect(canonical(api.schema(`#/components/responses/${name}/content/application~1json/schema`))).toEqual(
        canonical(yamlSpec.error),
      );
    }
  });

  it.each(targets)('spec-schemas.ts %s equals the YAML schema', (target) => {
    expect(canonical(SpecTargets[target])).toEqual(canonical(yamlSpec[target]));
  });

  it.each(targets)('the as-lived %s schema is the YAML schema with exactly the listed differences', (target) => {
    expect(canonical(LiveSchemas[target])).toEqual(canonical(applyLiveDifferences(target, yamlSpec[target])));
  });

  it('the README names every difference', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const d of LIVE_DIFFERENCES) expect(readme, d.id).toContain(`\`${d.id}\``);
  });

  it('every difference has a reason and a source, and ids are unique', () => {
    const ids = LIVE_DIFFERENCES.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of LIVE_DIFFERENCES) {
      expect(d.reason.length, d.id).toBeGreaterThan(20);
      expect(d.facts.length, d.id).toBeGreaterThan(0);
      expect(d.changes.length, d.id).toBeGreaterThan(0);
    }
  });

  it('the fields made optional as removed for development-mode apps are exactly those the spec marks deprecated', () => {
    const deprecated = (pointer: string) =>
      Object.entries((api.raw(pointer).properties ?? {}) as Record<string, { deprecated?: boolean }>)
        .filter(([, v]) => v.deprecated === true)
        .map(([k]) => k)
        .sort();
    const optional = (id: string) =>
      LIVE_DIFFERENCES.find((d) => d.id === id)!
        .changes.filter((c) => c.op === 'optional')
        .map((c) => c.path);
    const track = optional('dev-mode-removed-fields');
    expect(
      track
        .filter((p) => /^items\[\]\.track\.[a-z_]+$/.test(p))
        .map((p) => p.split('.').pop())
        .sort(),
    ).toEqual(deprecated('#/components/schemas/TrackObject'));
    expect(track.filter((p) => p.includes('.album.')).map((p) => p.split('.').pop())).toEqual(
      deprecated('#/components/schemas/AlbumBase'),
    );
    expect(optional('me-dev-mode-removed-fields').sort()).toEqual(deprecated('#/components/schemas/PrivateUserObject'));
  });
});

describe('the real-shaped pages (../shared/spotify/pages)', () => {
  it.each(realPages().map((p) => [p.name, p.body] as const))(
    '%s passes the client and the YAML with differences',
    (_, body) => {
      const v = verdict('recently-played', body);
      expect(v.problems).toEqual([]);
      expect(v).toMatchObject({ client: true, yaml: true });
    },
  );

  it.each(realPages().map((p) => [p.name, p.body] as const))(
    '%s passes the envelope + item checkers too',
    (_, body) => {
      expect(envelopeAndItems(body)).toBe(true);
    },
  );

  it.each(realPages().map((p) => [p.name, p.body] as const))(
    '%s keeps the cursor and next rules (FACTS 6-9)',
    (_, body) => {
      expect(pageFactProblems(body)).toEqual([]);
    },
  );

  it('the cursor rules can fail', () => {
    expect(pageFactProblems(broken('before-full.json', set('/cursors/after', '1')))).not.toEqual([]);
    expect(
      pageFactProblems(broken('after-duplicates.json', set('/next', realPage('before-full.json').next))),
    ).not.toEqual([]);
  });

  it('the differences are needed: the pages with null contexts and the empty page fail the YAML as written', () => {
    expect(yamlRaw['recently-played'].Check(realPage('empty.json'))).toBe(false);
    expect(yamlRaw['recently-played'].Check(realPage('before-full.json'))).toBe(false);
    expect(yamlRaw['recently-played'].Check(realPage('after-duplicates.json'))).toBe(false);
  });
});

type Node = Record<string, unknown> | unknown[];

/** The parent container and last key of a JSON pointer such as /items/3/track/id. */
function locate(root: unknown, pointer: string): { parent: Node; key: string } {
  const parts = pointer.split('/').slice(1);
  const key = parts.pop()!;
  let node = root as Node;
  for (const part of parts) node = (node as Record<string, unknown>)[part] as Node;
  return { parent: node, key };
}
const set = (pointer: string, value: unknown) => (page: unknown) => {
  const { parent, key } = locate(page, pointer);
  (parent as Record<string, unknown>)[key] = value;
};
const del = (pointer: string) => (page: unknown) => {
  const { parent, key } = locate(page, pointer);
  delete (parent as Record<string, unknown>)[key];
};

/** A deep copy of a real page with one or more things broken. */
function broken(name: string, ...edits: ((page: unknown) => void)[]): unknown {
  const page = structuredClone(realPage(name));
  for (const edit of edits) edit(page);
  return page;
}

/** Index of the first item of a real page that has a context. */
const withContext = (name: string) =>
  (realPage(name).items as { context: unknown }[]).findIndex((i) => i.context !== null);

describe('broken responses fail the contract (so the test can fail)', () => {
  const cases: [string, unknown][] = [
    ['`total` added', broken('after-duplicates.json', set('/total', 8))],
    ['`total` added to an empty page', broken('empty.json', set('/total', 0))],
    [
      'cursors as numbers',
      broken('after-duplicates.json', set('/cursors', { after: 1746155657044, before: 1746131235127 })),
    ],
    ['a cursor missing', broken('after-duplicates.json', del('/cursors/before'))],
    ['page key missing: next', broken('after-duplicates.json', del('/next'))],
    ['page key missing: cursors', broken('empty.json', del('/cursors'))],
    ['item key missing: context', broken('before-full.json', del('/items/3/context'))],
    ['item key missing: played_at', broken('before-full.json', del('/items/0/played_at'))],
    ['track key missing: duration_ms', broken('before-full.json', del('/items/7/track/duration_ms'))],
    ['track key missing: external_ids', broken('before-full.json', del('/items/7/track/external_ids'))],
    ['artist key missing: id', broken('before-full.json', del('/items/1/track/artists/0/id'))],
    ['album key missing: release_date', broken('before-full.json', del('/items/1/track/album/release_date'))],
    ['wrong type: duration_ms a string', broken('before-full.json', set('/items/2/track/duration_ms', '215000'))],
    ['wrong type: explicit a string', broken('before-full.json', set('/items/2/track/explicit', 'false'))],
    ['wrong type: items an object', broken('empty.json', set('/items', {}))],
    ['wrong type: limit a string', broken('empty.json', set('/limit', '50'))],
    ['played_at not a date-time', broken('before-full.json', set('/items/0/played_at', '2022-03-16 05:38:48'))],
    ['played_at as epoch ms', broken('before-full.json', set('/items/0/played_at', 1647409128463))],
    [
      'played_at with a zone offset',
      broken('before-full.json', set('/items/0/played_at', '2022-03-16T05:38:48.463+01:00')),
    ],
    [
      'context without uri',
      broken('after-duplicates.json', del(`/items/${withContext('after-duplicates.json')}/context/uri`)),
    ],
    ['track type episode', broken('before-full.json', set('/items/0/track/type', 'episode'))],
    ['album_type unknown', broken('before-full.json', set('/items/0/track/album/album_type', 'mixtape'))],
    ['a null id on a track that is not a local file', broken('before-full.json', set('/items/0/track/id', null))],
    [
      'a null album href on a track that is not a local file',
      broken('before-full.json', set('/items/0/track/album/href', null)),
    ],
    ['wrong type: a numeric track id', broken('before-full.json', set('/items/0/track/id', 42))],
  ];

  it.each(cases)('%s', (_, body) => {
    const v = verdict('recently-played', body);
    expect(v.client).toBe(false);
    expect(v.yaml).toBe(false);
    expect(envelopeAndItems(body)).toBe(false);
  });

  it('an error body without a message fails', () => {
    expect(verdict('error', { error: { status: 429 } })).toMatchObject({ client: false, yaml: false });
    expect(verdict('error', { error: { status: '429', message: 'x' } })).toMatchObject({ client: false, yaml: false });
    expect(verdict('error', { error: 'unauthorized' })).toMatchObject({ client: false, yaml: false });
  });

  it('a profile without id fails', () => {
    expect(verdict('me', { display_name: 'x', type: 'user' })).toMatchObject({ client: false, yaml: false });
  });
});

describe('the listed differences, one by one', () => {
  it('a page without available_markets and popularity (development mode) passes', () => {
    const edits = (realPage('before-full.json').items as unknown[]).flatMap((_, i) => [
      del(`/items/${i}/track/available_markets`),
      del(`/items/${i}/track/popularity`),
      del(`/items/${i}/track/preview_url`),
      del(`/items/${i}/track/album/available_markets`),
    ]);
    const body = broken('before-full.json', ...edits);
    expect(verdict('recently-played', body)).toMatchObject({ client: true, yaml: true });
    expect(yamlRaw['recently-played'].Check(body)).toBe(false); // the spec requires album available_markets
  });

  it('a local file (null ids, is_local true) passes', () => {
    const track = '/items/0/track';
    const artists = (
      realPage('after-mixed-precision.json').items as { track: { artists: unknown[]; album: { artists: unknown[] } } }[]
    )[0]!.track;
    const body = broken(
      'after-mixed-precision.json',
      set(`${track}/id`, null),
      set(`${track}/is_local`, true),
      set(`${track}/uri`, 'spotify:local:Artist:Album:Title:215'),
      set(`${track}/album/id`, null),
      ...artists.artists.map((_, i) => set(`${track}/artists/${i}/id`, null)),
      ...artists.album.artists.map((_, i) => set(`${track}/album/artists/${i}/id`, null)),
    );
    expect(verdict('recently-played', body)).toMatchObject({ client: true, yaml: true });
  });

  it('a QUOTA_EXCEEDED body passes; a non-string reason does not', () => {
    const quota = { error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } };
    expect(verdict('error', quota)).toMatchObject({ client: true, yaml: true });
    expect(verdict('error', { error: { status: 429, message: 'x', reason: 1 } })).toMatchObject({
      client: false,
      yaml: false,
    });
  });

  it('a profile with account_id and display_name null passes', () => {
    const me = { id: 'u1', account_id: 'aB3', display_name: null, type: 'user', uri: 'spotify:user:u1', images: [] };
    expect(verdict('me', me)).toMatchObject({ client: true, yaml: true });
  });
});
