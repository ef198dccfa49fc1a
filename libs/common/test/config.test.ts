import { describe, expect, it } from 'vitest';
import Type from 'typebox';
import { ConfigError, ConfigVars, loadConfig } from '../src/config.ts';

const Schema = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  DATABASE_URL: ConfigVars.DATABASE_URL,
  STORE_KIND: ConfigVars.STORE_KIND,
  PORT: ConfigVars.port(8080),
  API_TOKEN: Type.String({ minLength: 32, description: 'a bearer token of at least 32 characters' }),
});

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(Schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and converts numbers', () => {
    const config = loadConfig(Schema, { DATABASE_URL: 'postgres://u@h/db', API_TOKEN: 'x'.repeat(32), PORT: '9000' });
    expect(config).toEqual({
      LOG_LEVEL: 'info',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://u@h/db',
      STORE_KIND: 'mssql',
      PORT: 9000,
      API_TOKEN: 'x'.repeat(32),
    });
  });

  it('names every missing variable in one message, with what it expects', () => {
    const message = problemsOf({});
    expect(message).toContain('2 problems');
    expect(message).toMatch(/API_TOKEN is missing: expects a bearer token of at least 32 characters/);
    expect(message).toMatch(/DATABASE_URL is missing: expects a database URL/);
  });

  it('names every malformed variable in one message and never echoes its value', () => {
    const message = problemsOf({
      DATABASE_URL: 'mysql://nope',
      API_TOKEN: 'short-secret-value',
      PORT: 'eighty',
      STORE_KIND: 'oracle',
      LOG_LEVEL: 'loud',
      REDIS_URL: 'http://x',
    });
    for (const name of ['DATABASE_URL', 'API_TOKEN', 'PORT', 'STORE_KIND', 'LOG_LEVEL', 'REDIS_URL']) {
      expect(message).toContain(`${name} is invalid`);
    }
    expect(message).toContain('6 problems');
    expect(message).toContain('expects mssql or postgres');
    expect(message).not.toContain('short-secret-value');
  });

  it('treats an empty string as missing', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://u@h/db', API_TOKEN: '' })).toMatch(/API_TOKEN is missing/);
  });
});
