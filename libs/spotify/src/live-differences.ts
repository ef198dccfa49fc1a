// Every place where the live Spotify Web API differs from ../shared/spotify/fixed-spotify-open-api.yml, in ONE list,
// each with its reason and the FACTS.md fact numbers (../shared/spotify/FACTS.md) that show it.
// The as-lived schemas (schemas.ts) are the spec schemas (spec-schemas.ts) with exactly these changes applied;
// the contract test applies the same list to the schemas loaded from the YAML file and checks both agree.
// A change that only restates the spec (a no-op) is kept when readers must not "tighten" that place: it says so.
import type { SchemaTarget } from './spec-schemas.ts';

/**
 * A change to a JSON Schema. `path` names a property from the response's root: dot-separated property names,
 * `[]` after a name steps into that array's items (`items[].track.artists[]`); '' is the root object.
 */
export type SchemaChange =
  /** The property must not be present at all. */
  | { op: 'forbid'; path: string }
  /** The property may be null (as well as what the spec says). */
  | { op: 'nullable'; path: string }
  /** The property may be missing. */
  | { op: 'optional'; path: string }
  /** The object at `path` always carries these keys. */
  | { op: 'require'; path: string; keys: readonly string[] }
  /** The string property also matches this pattern. */
  | { op: 'pattern'; path: string; pattern: string }
  /** A property the spec does not list, optional, with this schema. */
  | { op: 'add'; path: string; schema: Record<string, unknown> }
  /**
   * The object at `path` may also take a second shape: a copy with `changes` applied (paths relative to `path`)
   * and the properties in `set` replaced. Must come after every other change below `path`.
   */
  | { op: 'alternative'; path: string; set: Record<string, unknown>; changes: readonly SchemaChange[] };

export interface LiveDifference {
  id: string;
  target: SchemaTarget;
  /** FACTS.md fact numbers; 'pages' where ../shared/spotify/pages show it. */
  facts: readonly (number | 'pages' | 'spec')[];
  reason: string;
  changes: readonly SchemaChange[];
}

const TRACK = 'items[].track';
/** Keys of the track object in every response 2022-2026 (fact 16), minus those removed for development-mode apps. */
const TRACK_KEYS = [
  'album',
  'artists',
  'disc_number',
  'duration_ms',
  'explicit',
  'external_ids',
  'external_urls',
  'href',
  'id',
  'is_local',
  'name',
  'track_number',
  'type',
  'uri',
] as const;
const ARTIST_KEYS = ['external_urls', 'href', 'id', 'name', 'type', 'uri'] as const;
/** played_at as Spotify writes it: UTC, with or without exactly three fractional digits. */
export const PLAYED_AT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z$';
/** A cursor: epoch milliseconds written as a decimal string. */
export const CURSOR_PATTERN = '^\\d+$';

export const LIVE_DIFFERENCES: readonly LiveDifference[] = [
  // ---- GET /v1/me/player/recently-played ----
  {
    id: 'no-total',
    target: 'recently-played',
    facts: [5],
    reason:
      'The spec (and the official TS SDK) declare `total`; none of 31,610 real responses has it. A response with ' +
      '`total` is therefore not shaped like Spotify, and is refused.',
    changes: [{ op: 'forbid', path: 'total' }],
  },
  {
    id: 'page-keys-required',
    target: 'recently-played',
    facts: [5, 8],
    reason: 'Every real response has exactly the keys cursors, href, items, limit, next (the spec requires none).',
    changes: [{ op: 'require', path: '', keys: ['cursors', 'href', 'items', 'limit', 'next'] }],
  },
  {
    id: 'empty-page-null-cursors',
    target: 'recently-played',
    facts: [8],
    reason: 'On an empty page `cursors` is null, not an object.',
    changes: [{ op: 'nullable', path: 'cursors' }],
  },
  {
    id: 'next-null',
    target: 'recently-played',
    facts: [7, 8],
    reason:
      'The spec types `next` as a string (its description says "null if none" but it is not marked nullable); it is ' +
      'null on an empty page.',
    changes: [{ op: 'nullable', path: 'next' }],
  },
  {
    id: 'cursors-epoch-ms-strings',
    target: 'recently-played',
    facts: [6],
    reason:
      'When `cursors` is an object, both `after` (newest played_at) and `before` (oldest) are present, as epoch ' +
      'milliseconds written as decimal strings (10,804 of 10,804 non-empty pages).',
    changes: [
      { op: 'require', path: 'cursors', keys: ['after', 'before'] },
      { op: 'pattern', path: 'cursors.after', pattern: CURSOR_PATTERN },
      { op: 'pattern', path: 'cursors.before', pattern: CURSOR_PATTERN },
    ],
  },
  {
    id: 'item-keys-required',
    target: 'recently-played',
    facts: [5, 12, 'pages'],
    reason: 'Every item carries track, played_at and context (context possibly null).',
    changes: [{ op: 'require', path: 'items[]', keys: ['track', 'played_at', 'context'] }],
  },
  {
    id: 'context-null',
    target: 'recently-played',
    facts: [12],
    reason: '`context` is null on most plays (about 312k of 325k item occurrences); the spec does not allow null.',
    changes: [{ op: 'nullable', path: 'items[].context' }],
  },
  {
    id: 'context-keys-required',
    target: 'recently-played',
    facts: [12, 'pages'],
    reason:
      'A context object, when present, carries type, href, external_urls and uri (href can be a broken link such as ' +
      '".../artists/null": use uri).',
    changes: [{ op: 'require', path: 'items[].context', keys: ['type', 'href', 'external_urls', 'uri'] }],
  },
  {
    id: 'played-at-with-or-without-ms',
    target: 'recently-played',
    facts: [10],
    reason:
      '`played_at` is UTC with milliseconds (`...:30.123Z`) or, in 237 of ~325k occurrences, without ' +
      '(`...:30Z`). Both are date-times; the pattern states that exactly these two forms occur.',
    changes: [{ op: 'pattern', path: 'items[].played_at', pattern: PLAYED_AT_PATTERN }],
  },
  {
    id: 'track-keys-required',
    target: 'recently-played',
    facts: [16],
    reason:
      'The track object carried these keys in every response 2022-2026 (the spec requires none); ' +
      'available_markets, popularity and preview_url also always came, but see dev-mode-removed-fields.',
    changes: [{ op: 'require', path: TRACK, keys: TRACK_KEYS }],
  },
  {
    id: 'artist-keys-required',
    target: 'recently-played',
    facts: [16, 'pages'],
    reason: 'Artist objects (of the track and of its album) carry external_urls, href, id, name, type, uri.',
    changes: [
      { op: 'require', path: `${TRACK}.artists[]`, keys: ARTIST_KEYS },
      { op: 'require', path: `${TRACK}.album.artists[]`, keys: ARTIST_KEYS },
    ],
  },
  {
    id: 'dev-mode-removed-fields',
    target: 'recently-played',
    facts: [16, 29, 31],
    reason:
      'Fields the 2026 spec marks deprecated, i.e. removed for development-mode apps (February 2026 migration): ' +
      'track available_markets, popularity, preview_url, linked_from and album available_markets may be missing. ' +
      'The spec requires album available_markets; the track ones are optional in the spec already (no-op, listed ' +
      'so that nobody makes them required).',
    changes: [
      { op: 'optional', path: `${TRACK}.available_markets` },
      { op: 'optional', path: `${TRACK}.popularity` },
      { op: 'optional', path: `${TRACK}.preview_url` },
      { op: 'optional', path: `${TRACK}.linked_from` },
      { op: 'optional', path: `${TRACK}.album.available_markets` },
    ],
  },
  {
    id: 'preview-url-null',
    target: 'recently-played',
    facts: [16, 29, 'spec'],
    reason:
      '`preview_url` is null for many tracks (preview URLs were withdrawn in 2024-11). The spec already says ' +
      'nullable (no-op), listed so that nobody tightens it.',
    changes: [{ op: 'nullable', path: `${TRACK}.preview_url` }],
  },
  {
    // Keep this one last among the recently-played differences: it splits the track schema into two alternatives.
    id: 'local-file',
    target: 'recently-played',
    facts: [13],
    reason:
      'A local file (is_local true) has a uri (spotify:local:Artist:Album:Title:seconds) but no Spotify ids: track ' +
      'id, album id and artist ids are null, and so are the links and catalog data that need an id (track href; ' +
      'album href, uri, album_type, release_date, release_date_precision; artist href, uri), and the album has no ' +
      'total_tracks: the shape of local ' +
      'tracks in playlist responses, which the simulator sends. Never seen in recently-played (fact 13: UNVERIFIED), ' +
      'but the product must survive it. Only a track with is_local true may have these nulls.',
    changes: [
      {
        op: 'alternative',
        path: TRACK,
        set: { is_local: { const: true } },
        changes: [
          { op: 'nullable', path: 'id' },
          { op: 'nullable', path: 'href' },
          { op: 'nullable', path: 'album.id' },
          { op: 'nullable', path: 'album.href' },
          { op: 'nullable', path: 'album.uri' },
          { op: 'nullable', path: 'album.album_type' },
          { op: 'nullable', path: 'album.release_date' },
          { op: 'nullable', path: 'album.release_date_precision' },
          { op: 'optional', path: 'album.total_tracks' },
          { op: 'nullable', path: 'artists[].id' },
          { op: 'nullable', path: 'artists[].href' },
          { op: 'nullable', path: 'artists[].uri' },
          { op: 'nullable', path: 'album.artists[].id' },
          { op: 'nullable', path: 'album.artists[].href' },
          { op: 'nullable', path: 'album.artists[].uri' },
        ],
      },
    ],
  },
  // ---- GET /v1/me ----
  {
    id: 'me-id-required',
    target: 'me',
    facts: [18],
    reason:
      'The spec requires nothing; every profile carries `id` (fact 18 lists it), and the user key is ' +
      '`account_id ?? id` (account_id first appeared in the 2026-05-30 spec, so it may be missing).',
    changes: [{ op: 'require', path: '', keys: ['id'] }],
  },
  {
    id: 'me-display-name-null',
    target: 'me',
    facts: [18, 'spec'],
    reason: 'The spec text says display_name is "`null` if not available" but does not mark it nullable.',
    changes: [{ op: 'nullable', path: 'display_name' }],
  },
  {
    id: 'me-dev-mode-removed-fields',
    target: 'me',
    facts: [18, 31],
    reason:
      'country, email, explicit_content, followers, product are removed for development-mode apps; optional in ' +
      'the spec already (no-op, listed so that nobody makes them required).',
    changes: [
      { op: 'optional', path: 'country' },
      { op: 'optional', path: 'email' },
      { op: 'optional', path: 'explicit_content' },
      { op: 'optional', path: 'followers' },
      { op: 'optional', path: 'product' },
    ],
  },
  // ---- Web API error bodies ----
  {
    id: 'error-reason',
    target: 'error',
    facts: [24],
    reason:
      'Since July 2026 a quota 429 says `"reason":"QUOTA_EXCEEDED"` inside the error object; the spec ErrorObject ' +
      'lists only status and message.',
    changes: [{ op: 'add', path: 'error.reason', schema: { type: 'string' } }],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Applying the changes to a plain JSON Schema (TypeBox schemas are plain JSON Schema objects).

type Json = Record<string, unknown>;

function isNullSchema(s: unknown): boolean {
  return typeof s === 'object' && s !== null && (s as Json).type === 'null';
}

/** The non-null branch of `anyOf: [X, {type: 'null'}]`, or the schema itself. */
function unwrapNullable(schema: Json): Json {
  const anyOf = schema.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some(isNullSchema)) {
    return anyOf.find((s) => !isNullSchema(s)) as Json;
  }
  return schema;
}

function properties(object: Json, path: string): Json {
  const props = object.properties;
  if (typeof props !== 'object' || props === null) {
    throw new Error(`live-differences: ${path}: not an object schema (after an 'alternative'?)`);
  }
  return props as Json;
}

/** Walks to the object schema at `path` ('' = root); a trailing `[]` steps into array items. */
function objectAt(root: Json, path: string): Json {
  let node = unwrapNullable(root);
  if (path === '') return node;
  for (const segment of path.split('.')) {
    const array = segment.endsWith('[]');
    const name = array ? segment.slice(0, -2) : segment;
    const next = properties(node, path)[name] as Json | undefined;
    if (!next) throw new Error(`live-differences: ${path}: no property ${name}`);
    node = unwrapNullable(next);
    if (array) {
      if (node.type !== 'array') throw new Error(`live-differences: ${path}: ${name} is not an array`);
      node = unwrapNullable(node.items as Json);
    }
  }
  return node;
}

function parentAndKey(root: Json, path: string): { parent: Json; key: string } {
  const dot = path.lastIndexOf('.');
  const parent = objectAt(root, dot < 0 ? '' : path.slice(0, dot));
  const key = dot < 0 ? path : path.slice(dot + 1);
  return { parent, key };
}

function existing(parent: Json, key: string, path: string): Json {
  const schema = properties(parent, path)[key] as Json | undefined;
  if (!schema) throw new Error(`live-differences: ${path}: no such property`);
  return schema;
}

function dropRequired(parent: Json, key: string): void {
  if (!Array.isArray(parent.required)) return;
  const required = (parent.required as string[]).filter((k) => k !== key);
  if (required.length > 0) parent.required = required;
  else delete parent.required;
}

function applyChange(root: Json, change: SchemaChange): void {
  if (change.op === 'require') {
    const object = objectAt(root, change.path);
    const props = properties(object, change.path);
    for (const key of change.keys) {
      if (!(key in props)) throw new Error(`live-differences: ${change.path}: cannot require unknown ${key}`);
    }
    const required = new Set([...((object.required as string[] | undefined) ?? []), ...change.keys]);
    object.required = [...required];
    return;
  }
  const { parent, key } = parentAndKey(root, change.path);
  const props = properties(parent, change.path);
  switch (change.op) {
    case 'forbid':
      existing(parent, key, change.path);
      props[key] = { not: {} };
      dropRequired(parent, key);
      return;
    case 'nullable': {
      const schema = existing(parent, key, change.path);
      if (unwrapNullable(schema) === schema) props[key] = { anyOf: [schema, { type: 'null' }] };
      return;
    }
    case 'optional':
      existing(parent, key, change.path);
      dropRequired(parent, key);
      return;
    case 'pattern': {
      const schema = unwrapNullable(existing(parent, key, change.path));
      if (schema.type !== 'string') throw new Error(`live-differences: ${change.path}: pattern on a non-string`);
      schema.pattern = change.pattern;
      return;
    }
    case 'add':
      if (key in props) throw new Error(`live-differences: ${change.path}: already in the spec`);
      props[key] = structuredClone(change.schema);
      return;
    case 'alternative': {
      const schema = existing(parent, key, change.path);
      const other = structuredClone(unwrapNullable(schema));
      for (const inner of change.changes) applyChange(other, inner);
      const otherProps = properties(other, change.path);
      for (const [name, value] of Object.entries(change.set)) {
        existing(other, name, `${change.path}.${name}`);
        otherProps[name] = structuredClone(value);
      }
      props[key] = { anyOf: [schema, other] };
      return;
    }
  }
}

/**
 * The spec schema of `target` with every live difference for it applied (a deep copy; the input is unchanged).
 * Works on the TypeBox spec schemas and on schemas built from the OpenAPI YAML alike.
 */
export function applyLiveDifferences<T>(target: SchemaTarget, specSchema: T): T {
  const copy = structuredClone(specSchema) as Json;
  for (const difference of LIVE_DIFFERENCES) {
    if (difference.target !== target) continue;
    for (const change of difference.changes) applyChange(copy, change);
  }
  return copy as T;
}
