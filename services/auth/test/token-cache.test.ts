// The shared access-token cache on a real Redis, with an injected clock.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger, createRedis, createSecretBox } from '@playledger/common';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from '../../../test/support/redis.ts';
import { authKeys } from '../src/keys.ts';
import { TokenCache } from '../src/token-cache.ts';
import { LogCapture, findSecrets, secretForms } from './harness.ts';

const MIN = 60_000;
const logs = new LogCapture();
const logger = createLogger({ name: 'auth', level: 'debug', destination: { write: (l: string) => logs.add('auth', l) } });
let redis: Redis;
let prefix: string;
let now = new Date('2026-06-01T00:00:00.000Z');
const clock = { now: () => now };
const keys = `k1:${randomBytes(32).toString('base64')}`;

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL, 'producer');
  prefix = uniquePrefix('auth-cache');
  await new Promise((resolve) => redis.once('ready', resolve));
});
afterAll(async () => {
  redis?.disconnect();
  await dropPrefix(prefix);
});

describe('token cache', () => {
  it('hands a token out until five minutes before it expires, encrypted in Redis with a matching TTL', async () => {
    const cache = new TokenCache({ redis, keys: authKeys(prefix), box: createSecretBox(keys), clock, logger });
    const token = { accessToken: `BQ${randomBytes(30).toString('base64url')}`, expiresAt: new Date(now.getTime() + 60 * MIN) };
    await cache.put('u1', token);
    const raw = (await redis.get(authKeys(prefix).token('u1')))!;
    expect(secretForms(token.accessToken).some((f) => raw.includes(f))).toBe(false);
    const ttl = await redis.pttl(authKeys(prefix).token('u1'));
    expect(ttl).toBeGreaterThan(54 * MIN);
    expect(ttl).toBeLessThanOrEqual(55 * MIN);
    expect(await cache.get('u1')).toEqual(token);
    now = new Date(now.getTime() + 54 * MIN);
    expect(await cache.get('u1')).toEqual(token);
    now = new Date(now.getTime() + 1 * MIN);
    expect(await cache.get('u1')).toBeNull();
  });

  it('keeps a short-lived token for three quarters of its life instead of not at all', async () => {
    const cache = new TokenCache({ redis, keys: authKeys(prefix), box: createSecretBox(keys), clock, logger });
    await cache.put('u2', { accessToken: `BQ${randomBytes(30).toString('base64url')}`, expiresAt: new Date(now.getTime() + 8 * MIN) });
    now = new Date(now.getTime() + 5 * MIN);
    expect(await cache.get('u2')).not.toBeNull();
    now = new Date(now.getTime() + 1 * MIN);
    expect(await cache.get('u2')).toBeNull();
  });

  it('treats an entry it cannot decrypt (key dropped, entry altered, moved to another user) as a miss', async () => {
    const writer = new TokenCache({ redis, keys: authKeys(prefix), box: createSecretBox(keys), clock, logger });
    const token = { accessToken: `BQ${randomBytes(30).toString('base64url')}`, expiresAt: new Date(now.getTime() + 60 * MIN) };
    await writer.put('u3', token);
    const other = new TokenCache({ redis, keys: authKeys(prefix), box: createSecretBox(`k2:${randomBytes(32).toString('base64')}`), clock, logger });
    expect(await other.get('u3')).toBeNull();
    await redis.copy(authKeys(prefix).token('u3'), authKeys(prefix).token('u4'));
    expect(await writer.get('u4')).toBeNull();
    expect(logs.text()).toContain('cannot be decrypted');
    expect(findSecrets(logs.text(), new Map([['token', token.accessToken]]))).toEqual([]);
  });
});
