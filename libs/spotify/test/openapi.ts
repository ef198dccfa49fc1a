// Loads ../shared/spotify/fixed-spotify-open-api.yml and turns the component schemas the client reads into
// self-contained JSON Schema: $refs inlined, allOf flattened, `nullable: true` as anyOf [X, null], and documentation
// keys (description, example, deprecated, x-*) left out; the same form TypeBox produces, so the two can be compared.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SPOTIFY_DIR } from '../../../test/support/shared.ts';

export const SHARED = SPOTIFY_DIR;
export const OPENAPI_FILE = `${SHARED}/fixed-spotify-open-api.yml`;

type Json = Record<string, unknown>;

export interface OpenApi {
  doc: Json;
  /** the normalized schema at a JSON pointer such as #/components/schemas/TrackObject */
  schema(pointer: string): Json;
  /** the raw (not normalized) YAML node at a pointer */
  raw(pointer: string): Json;
}

const KEPT = ['type', 'enum', 'format', 'minimum', 'maximum', 'pattern'] as const;

export function loadOpenApi(file = OPENAPI_FILE): OpenApi {
  const doc = parse(readFileSync(file, 'utf8')) as Json;

  function raw(pointer: string): Json {
    if (!pointer.startsWith('#/')) throw new Error(`only local refs: ${pointer}`);
    let node: unknown = doc;
    for (const part of pointer.slice(2).split('/')) {
      node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`no ${pointer}`);
    }
    return node as Json;
  }

  function normalize(node: Json, depth = 0): Json {
    if (depth > 40) throw new Error('schema too deep (a cycle?)');
    if (typeof node.$ref === 'string') return normalize(raw(node.$ref), depth + 1);
    if (Array.isArray(node.allOf)) {
      const parts = (node.allOf as Json[]).map((p) => normalize(p, depth + 1));
      const merged = parts.length === 1 ? parts[0]! : mergeObjects(parts);
      return node.nullable === true ? { anyOf: [merged, { type: 'null' }] } : merged;
    }
    const out: Json = {};
    for (const key of KEPT) if (node[key] !== undefined) out[key] = node[key];
    if (node.properties) {
      out.properties = Object.fromEntries(
        Object.entries(node.properties as Record<string, Json>).map(([k, v]) => [k, normalize(v, depth + 1)]),
      );
    }
    if (Array.isArray(node.required) && node.required.length > 0) out.required = [...(node.required as string[])];
    if (node.items) out.items = normalize(node.items as Json, depth + 1);
    return node.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
  }

  function mergeObjects(parts: Json[]): Json {
    const properties: Json = {};
    const required = new Set<string>();
    for (const part of parts) {
      if (part.type !== undefined && part.type !== 'object') throw new Error('allOf of a non-object');
      Object.assign(properties, part.properties ?? {});
      for (const r of (part.required as string[] | undefined) ?? []) required.add(r);
    }
    const out: Json = { type: 'object', properties };
    if (required.size > 0) out.required = [...required];
    return out;
  }

  return { doc, raw, schema: (pointer) => normalize(raw(pointer)) };
}

/** Plain JSON with every `required` sorted, so schemas built in different orders compare equal. */
export function canonical(schema: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(schema)) as unknown;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Json;
    if (Array.isArray(obj.required)) obj.required = [...(obj.required as string[])].sort();
    Object.values(obj).forEach(walk);
  };
  walk(copy);
  return copy;
}

/** The three response schemas the client reads, from the YAML, by difference target. */
export function specFromYaml(api: OpenApi) {
  return {
    'recently-played': api.schema('#/components/schemas/CursorPagingPlayHistoryObject'),
    me: api.schema('#/components/schemas/PrivateUserObject'),
    error: api.schema('#/components/responses/TooManyRequests/content/application~1json/schema'),
  };
}
