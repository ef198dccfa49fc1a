// The pure pieces: CSV quoting, redirects after sign-in, stages of an extraction, refresh-token end, token compare.
import { describe, expect, it } from 'vitest';
import { fieldOf } from '../src/app.ts';
import { refreshTokenEndsAt, stagesOf } from '../src/lib/dto.ts';
import { csvField } from '../src/lib/export.ts';
import { cookieSecretFor, tokenMatches } from '../src/lib/sessions.ts';
import { accessTokenCacheKey as cachedTokenKey } from '@playledger/common';
import { safeNext } from '../src/routes/login.ts';

describe('csvField', () => {
  it('quotes commas, quotes, line breaks and edge spaces; empty for null', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(false)).toBe('false');
    expect(csvField(0)).toBe('0');
  });
});

describe('safeNext', () => {
  it('keeps paths on this site only', () => {
    expect(safeNext('/docs')).toBe('/docs');
    expect(safeNext('/admin/queues/queue/load?status=failed')).toBe('/admin/queues/queue/load?status=failed');
    for (const bad of [undefined, '', 'https://evil.example', '//evil.example', '/\\evil.example', 'docs']) {
      expect(safeNext(bad)).toBe('/admin/queues');
    }
  });
});

describe('stagesOf', () => {
  it('maps every state to the three stages', () => {
    expect(stagesOf({ state: 'pending', fetchedAt: null })).toEqual({ extract: 'running', validate: 'pending', load: 'pending' });
    expect(stagesOf({ state: 'validating', fetchedAt: new Date() })).toEqual({ extract: 'done', validate: 'running', load: 'pending' });
    expect(stagesOf({ state: 'loading', fetchedAt: new Date() })).toEqual({ extract: 'done', validate: 'done', load: 'running' });
    expect(stagesOf({ state: 'done', fetchedAt: new Date() })).toEqual({ extract: 'done', validate: 'done', load: 'done' });
    expect(stagesOf({ state: 'no_new_plays', fetchedAt: new Date() })).toEqual({ extract: 'done', validate: 'skipped', load: 'skipped' });
    expect(stagesOf({ state: 'failed', fetchedAt: null })).toEqual({ extract: 'failed', validate: 'skipped', load: 'skipped' });
    expect(stagesOf({ state: 'failed', fetchedAt: new Date() })).toEqual({ extract: 'done', validate: 'failed', load: 'failed' });
  });
});

describe('refreshTokenEndsAt', () => {
  it('is six calendar months after the authorization, in UTC', () => {
    expect(refreshTokenEndsAt(new Date('2026-01-15T10:00:00.000Z')).toISOString()).toBe('2026-07-15T10:00:00.000Z');
    expect(refreshTokenEndsAt(new Date('2026-09-30T23:59:59.999Z')).toISOString()).toBe('2027-03-30T23:59:59.999Z');
  });
});

describe('fieldOf', () => {
  it('names the input at fault', () => {
    expect(fieldOf('querystring', { keyword: 'maximum', instancePath: '/limit', params: {} })).toBe('querystring/limit');
    expect(fieldOf('body', { keyword: 'required', instancePath: '', params: { missingProperty: 'record' } })).toBe('body/record');
    expect(fieldOf(undefined, undefined)).toBe('request');
  });
});

describe('tokens and keys', () => {
  it('compares tokens of any length without throwing', () => {
    const token = 'x'.repeat(40);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches('short', token)).toBe(false);
    expect(tokenMatches(`${token}y`, token)).toBe(false);
  });

  it('derives the cookie key from the token without revealing it', () => {
    const token = 'a'.repeat(40);
    expect(cookieSecretFor(token)).not.toContain(token);
    expect(cookieSecretFor(token)).toBe(cookieSecretFor(token));
    expect(cookieSecretFor(token)).not.toBe(cookieSecretFor('b'.repeat(40)));
  });

  it('builds the cached-token key as auth does, ids encoded', () => {
    expect(cachedTokenKey('pl', 'user:1 x')).toBe('pl:auth:token:user%3A1%20x');
  });
});
