// What the contract test checks a response with: the client's own checkers, and the OpenAPI file (YAML) with the
// live differences applied. Both must agree on every sample.
import { readdirSync, readFileSync } from 'node:fs';
import Schema from 'typebox/schema';
import { applyLiveDifferences, checkers } from '../src/index.ts';
import type { SchemaTarget } from '../src/spec-schemas.ts';
import { SHARED, loadOpenApi, specFromYaml } from './openapi.ts';

export const api = loadOpenApi();
export const yamlSpec = specFromYaml(api);

type Validator = ReturnType<typeof Schema.Compile>;
const compile = (schema: object): Validator => Schema.Compile(schema as Parameters<typeof Schema.Compile>[0]);

/** The YAML schemas with the live differences applied, compiled. */
export const yamlLive: Record<SchemaTarget, Validator> = {
  'recently-played': compile(applyLiveDifferences('recently-played', yamlSpec['recently-played'])),
  me: compile(applyLiveDifferences('me', yamlSpec.me)),
  error: compile(applyLiveDifferences('error', yamlSpec.error)),
};
/** The YAML schemas as written, compiled. */
export const yamlRaw: Record<SchemaTarget, Validator> = {
  'recently-played': compile(yamlSpec['recently-played']),
  me: compile(yamlSpec.me),
  error: compile(yamlSpec.error),
};

const clientChecker = {
  'recently-played': checkers.recentlyPlayed,
  me: checkers.me,
  error: checkers.error,
} as const;

export interface Verdict {
  client: boolean;
  yaml: boolean;
  /** the client's problems, for failure messages */
  problems: string[];
}

export function verdict(target: SchemaTarget, body: unknown): Verdict {
  const checker = clientChecker[target];
  return {
    client: checker.check(body),
    yaml: yamlLive[target].Check(body),
    problems: checker.problems(body).map((p) => `${p.path || '/'} ${p.message}`),
  };
}

export const PAGES_DIR = `${SHARED}/pages`;

export function realPages(): { name: string; body: unknown }[] {
  return readdirSync(PAGES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => ({ name, body: JSON.parse(readFileSync(`${PAGES_DIR}/${name}`, 'utf8')) as unknown }));
}

export function realPage(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${PAGES_DIR}/${name}`, 'utf8')) as Record<string, unknown>;
}

/**
 * What a page must satisfy beyond its schema (FACTS 6-9): newest first; cursors = the newest and oldest played_at
 * in ms; `next` pages on with the cursor of the request's direction and the same limit; an empty page has null
 * cursors and next. Returns the broken rules (empty = all hold).
 */
export function pageFactProblems(body: unknown): string[] {
  const page = body as {
    href: string;
    limit: number;
    next: string | null;
    cursors: { after: string; before: string } | null;
    items: { played_at: string }[];
  };
  const problems: string[] = [];
  if (page.items.length === 0) {
    if (page.cursors !== null) problems.push('fact 8: empty page with cursors');
    if (page.next !== null) problems.push('fact 8: empty page with next');
    return problems;
  }
  const ms = page.items.map((i) => Date.parse(i.played_at));
  if (ms.some((t, i) => i > 0 && t > ms[i - 1]!)) problems.push('fact 9: not newest first');
  if (page.cursors?.after !== String(ms[0])) problems.push('fact 6: cursors.after is not the newest played_at');
  if (page.cursors?.before !== String(ms.at(-1))) problems.push('fact 6: cursors.before is not the oldest played_at');
  if (page.next === null) return problems;
  const href = new URL(page.href);
  const next = new URL(page.next);
  const forward = href.searchParams.has('after');
  if (next.pathname !== href.pathname) problems.push('fact 7: next is another path');
  const expected = forward ? { after: page.cursors?.after } : { before: page.cursors?.before };
  const got = {
    after: next.searchParams.get('after') ?? undefined,
    before: next.searchParams.get('before') ?? undefined,
  };
  if (JSON.stringify({ after: undefined, before: undefined, ...expected }) !== JSON.stringify(got)) {
    problems.push(`fact 7: next cursor ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
  if (next.searchParams.get('limit') !== String(page.limit)) problems.push('fact 7: next has another limit');
  return problems;
}
