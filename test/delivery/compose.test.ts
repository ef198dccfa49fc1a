// The compose files are checked as far as a machine without a Docker engine allows: against the Compose
// Specification's JSON Schema, for healthchecks on every service and dependency, and for every variable that
// a service requires at start-up (read from the service itself) being set in compose or documented in .env.example.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Schema from 'typebox/schema';
import { parse, type Tags } from 'yaml';
import { SHARED_DIR } from '../support/shared.ts';

const root = path.resolve(import.meta.dirname, '../..');
const spec: unknown = JSON.parse(readFileSync(path.join(SHARED_DIR, 'compose-spec/compose-spec.json'), 'utf8'));
const SERVICES = ['auth', 'extractor', 'validator', 'loader', 'api'] as const;

interface ComposeService {
  healthcheck?: unknown;
  depends_on?: Record<string, { condition?: string }> | string[];
  environment?: Record<string, unknown>;
  profiles?: string[];
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Compose's `!override` tag (an override file replaces a value instead of merging it), kept as a marker. */
const OVERRIDE = Symbol('override');
const customTags: Tags = [
  {
    tag: '!override',
    collection: 'map',
    resolve: (map) => Object.assign(map.toJSON() as object, { [OVERRIDE]: true }),
  },
];

function load(file: string): ComposeFile {
  return parse(readFileSync(path.join(root, file), 'utf8'), { merge: true, customTags }) as ComposeFile;
}

/** Merges an override file into a base model the way `docker compose -f a -f b` does for what we use. */
function merge(base: ComposeFile, override: ComposeFile): ComposeFile {
  const out = structuredClone(base);
  for (const [name, svc] of Object.entries(override.services)) {
    const target = (out.services[name] ??= {});
    for (const [key, value] of Object.entries(svc) as [keyof ComposeService, unknown][]) {
      const replace = typeof value === 'object' && value !== null && OVERRIDE in value;
      const current = target[key];
      (target as Record<string, unknown>)[key] =
        !replace && isObject(current) && isObject(value) ? { ...current, ...value } : structuredClone(value);
    }
  }
  return out;
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const active = (file: ComposeFile) => Object.entries(file.services).filter(([, s]) => !s.profiles?.length);

function documentedVariables(): Set<string> {
  const text = readFileSync(path.join(root, '.env.example'), 'utf8');
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? ''));
}

/**
 * What a service says is missing when it starts with nothing but a malformed PORT (so that it stops even when it
 * requires nothing): its required variables.
 */
function requiredVariables(service: string): string[] {
  const result = spawnSync(process.execPath, [path.join(root, 'services', service, 'src/main.ts')], {
    env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status, `${service} must refuse to start without configuration`).not.toBe(0);
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output, `${service} names the malformed variable`).toMatch(/PORT is invalid/);
  return [...output.matchAll(/([A-Z][A-Z0-9_]+) is missing/g)].map((m) => m[1] ?? '');
}

const base = load('docker-compose.yml');
const postgres = merge(base, load('docker-compose.postgres.yml'));
const variants = { 'docker-compose.yml': base, 'with docker-compose.postgres.yml': postgres } as const;

describe('compose files', () => {
  const validator = Schema.Compile(spec as Parameters<typeof Schema.Compile>[0]);

  it.each(['docker-compose.yml', 'docker-compose.postgres.yml'])('%s is valid against the Compose Specification', (file) => {
    const doc = parse(readFileSync(path.join(root, file), 'utf8'), { merge: true, customTags }) as unknown;
    expect(validator.Check(doc)).toBe(true);
  });

  it('the schema check can fail: a misspelt key or a wrong type is refused', () => {
    const misspelt = structuredClone(base) as unknown as { services: { api: Record<string, unknown> } };
    misspelt.services.api.replica = 2;
    expect(validator.Check(misspelt)).toBe(false);
    const wrongType = structuredClone(base) as unknown as { services: { api: Record<string, unknown> } };
    wrongType.services.api.restart = ['always'];
    expect(validator.Check(wrongType)).toBe(false);
  });

  for (const [name, model] of Object.entries(variants)) {
    it(`${name}: every service and every depends_on target has a healthcheck`, () => {
      for (const [service, svc] of active(model)) {
        expect(svc.healthcheck, `${service} has a healthcheck`).toBeDefined();
        const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
        for (const dep of deps) {
          const target = model.services[dep];
          expect(target, `${service} depends on ${dep}, which exists`).toBeDefined();
          expect(target?.profiles ?? [], `${dep} is started by default`).toEqual([]);
          expect(target?.healthcheck, `${service} depends on ${dep}, which has a healthcheck`).toBeDefined();
        }
      }
    });
  }

  it('SQL Server is the default store and PostgreSQL the variant', () => {
    expect(base.services.api?.environment?.STORE_KIND).toBe('mssql');
    expect(postgres.services.api?.environment?.STORE_KIND).toBe('postgres');
    expect(active(postgres).map(([n]) => n)).not.toContain('mssql');
  });

  it('every worker service runs as several replicas', () => {
    for (const worker of ['extractor', 'validator', 'loader']) {
      expect(base.services[worker]?.deploy?.replicas ?? 1).toBeGreaterThan(1);
    }
  });

  it.each(SERVICES)('every variable %s requires is set in compose or documented in .env.example', (service) => {
    const documented = documentedVariables();
    const required = requiredVariables(service);
    for (const model of Object.values(variants)) {
      const set = new Set(Object.keys(model.services[service]?.environment ?? {}));
      const unset = required.filter((v) => !set.has(v) && !documented.has(v));
      expect(unset, `${service}: required but neither set nor documented`).toEqual([]);
    }
  });
});

describe('.env.example', () => {
  it('documents every variable the services read, as their schemas define them', () => {
    const result = spawnSync(process.execPath, [path.join(root, 'scripts/env-example.ts'), '--check'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
