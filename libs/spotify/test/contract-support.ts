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
