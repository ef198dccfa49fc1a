// Writes .env.example from the services' own config schemas, so that it documents every variable exactly as the
// services read it. `node scripts/env-example.ts --check` fails when the committed file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TObject } from 'typebox';
import { ApiConfigSchema } from '../services/api/src/config.ts';
import { AuthConfigSchema } from '../services/auth/src/config.ts';
import { ExtractorConfigSchema } from '../services/extractor/src/config.ts';
import { LoaderConfig } from '../services/loader/src/config.ts';
import { ValidatorConfig } from '../services/validator/src/config.ts';

const schemas: Record<string, TObject> = {
  auth: AuthConfigSchema,
  extractor: ExtractorConfigSchema,
  validator: ValidatorConfig,
  loader: LoaderConfig,
  api: ApiConfigSchema,
};

/** Variables that only docker compose reads (they configure the containers, not a service). */
const composeOnly: [string, string][] = [
  ['MSSQL_SA_PASSWORD', 'SQL Server sa password (docker compose; 8+ characters with upper, lower, digit and symbol; it goes into DATABASE_URL, so avoid @ # / % or percent-encode them)'],
  ['POSTGRES_PASSWORD', 'PostgreSQL password (docker compose with docker-compose.postgres.yml)'],
];

interface Var {
  name: string;
  services: string[];
  description: string;
  /** the default per service (services may differ, as for PORT) */
  fallbacks: Map<string, unknown>;
  required: boolean;
}

export function collectVariables(): Var[] {
  const vars = new Map<string, Var>();
  for (const [service, schema] of Object.entries(schemas)) {
    const required = new Set(schema.required ?? []);
    for (const [name, property] of Object.entries(schema.properties)) {
      const p = property as { description?: string; default?: unknown };
      const v: Var = vars.get(name) ?? { name, services: [], description: p.description ?? '', fallbacks: new Map(), required: false };
      v.services.push(service);
      if (p.default !== undefined) v.fallbacks.set(service, p.default);
      v.required ||= required.has(name) && p.default === undefined;
      vars.set(name, v);
    }
  }
  return [...vars.values()];
}

export function renderEnvExample(): string {
  const lines = [
    '# playledger configuration: copy to .env and fill in the values marked "required".',
    '# Generated from the services\' config schemas by `node scripts/env-example.ts`; a test keeps it in step.',
    '# Each service reads only the variables listed with its name; a bad value stops start-up naming every problem.',
    '',
  ];
  for (const v of collectVariables()) {
    lines.push(`# ${v.description}`);
    lines.push(`# used by: ${v.services.join(', ')}${v.required ? ' (required)' : ''}`);
    const distinct = new Set([...v.fallbacks.values()].map(String));
    if (distinct.size > 1) {
      lines.push(`# defaults: ${[...v.fallbacks].map(([service, value]) => `${service} ${String(value)}`).join(', ')}`);
      lines.push(`# ${v.name}=`, '');
    } else {
      lines.push(`${v.name}=${[...distinct][0] ?? ''}`, '');
    }
  }
  lines.push('# --- docker compose only ---', '');
  for (const [name, description] of composeOnly) lines.push(`# ${description}`, `${name}=`, '');
  return lines.join('\n');
}

const target = path.resolve(import.meta.dirname, '../.env.example');
if (import.meta.main) {
  const text = renderEnvExample();
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      console.error('.env.example is out of date: run node scripts/env-example.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
