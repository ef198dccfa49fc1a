// Configuration is read from the environment once, at start-up, and validated with TypeBox.
// A missing or invalid variable stops start-up with one message that names every bad variable.
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import Value from 'typebox/value';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** What a variable expects, for the error message: its description, else its JSON Schema type. */
function expectation(schema: TSchema | undefined): string {
  if (!schema) return 'a value';
  const s = schema as { description?: string; type?: string; anyOf?: { const?: unknown }[] };
  if (s.description) return s.description;
  if (s.anyOf?.every((o) => o.const !== undefined)) return `one of ${s.anyOf.map((o) => String(o.const)).join(', ')}`;
  return s.type ?? 'a value';
}

/**
 * Reads the variables named by `schema` from `env`, applies defaults, converts numbers and booleans, and checks
 * every rule. Empty strings count as missing. Values of variables are never echoed (they may be secrets).
 */
export function loadConfig<S extends TObject>(schema: S, env: Env = process.env): Static<S> {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, raw));
  if (Value.Check(schema, value)) return value;

  // Each variable is checked on its own, so that one message names every bad variable.
  const problems: string[] = [];
  const required = new Set(schema.required ?? []);
  const converted = value as Record<string, unknown>;
  for (const [key, property] of Object.entries(schema.properties)) {
    const v = converted[key];
    if (v === undefined) {
      if (required.has(key)) problems.push(`${key} is missing: expects ${expectation(property)}`);
    } else if (!Value.Check(property, v)) {
      problems.push(`${key} is invalid: expects ${expectation(property)}`);
    }
  }
  if (problems.length === 0) problems.push('the configuration does not match its schema');
  throw new ConfigError(problems.sort());
}

/** Building blocks that services compose into their own config schema. */
export const ConfigVars = {
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
  ),
  REDIS_URL: Type.String({
    pattern: '^rediss?://',
    default: 'redis://127.0.0.1:6379',
    description: 'a Redis URL such as redis://127.0.0.1:6379',
  }),
  QUEUE_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9_{}:-]+$',
    default: 'playledger',
    description: 'a BullMQ key prefix (letters, digits, _ - : and {} for a Redis Cluster hash tag)',
  }),
  STORE_KIND: Type.Union([Type.Literal('mssql'), Type.Literal('postgres')], {
    default: 'mssql',
    description: 'mssql or postgres',
  }),
  DATABASE_URL: Type.String({
    pattern: '^(postgres(ql)?|mssql|sqlserver)://',
    description: 'a database URL: postgres://user@host:5432/db or mssql://user:password@host:1433/db',
  }),
  port: (fallback: number) =>
    Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description: 'a TCP port (0-65535)' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 25_000,
    description: 'milliseconds to finish active work on SIGTERM before exiting (>= 1000)',
  }),
} as const;
