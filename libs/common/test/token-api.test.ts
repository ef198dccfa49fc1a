// The token client's mapping of every answer to a typed error. Against the real auth service it is exercised in
// services/auth/test/tokens.test.ts; here a bare HTTP server gives the answers auth would, plus broken ones.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RateLimitedError, ReauthRequiredError, TransientError } from '../src/errors.ts';
import { fetchAccessToken } from '../src/token-api.ts';

const SECRET = 'a-service-secret-of-at-least-32-chars!!';
let server: Server;
let url: string;
const answers = new Map<string, { status: number; body?: unknown; hang?: boolean }>();
const seen: { authorization?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      const { userId } = JSON.parse(body) as { userId: string };
      const answer = answers.get(userId) ?? { status: 500 };
      if (answer.hang) return;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? 'not json' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const call = (userId: string, extra: { rejectedToken?: string; timeoutMs?: number } = {}) =>
  fetchAccessToken({ authUrl: url, secret: SECRET, userId, ...extra });

describe('fetchAccessToken', () => {
  it('returns the token with its expiry, sending the secret and the rejected token', async () => {
    answers.set('ok', { status: 200, body: { accessToken: 'BQ-token-value-1234', expiresAt: '2026-01-01T00:00:00.000Z' } });
    const token = await call('ok', { rejectedToken: 'BQ-old-token-5678' });
    expect(token).toEqual({ accessToken: 'BQ-token-value-1234', expiresAt: new Date('2026-01-01T00:00:00.000Z') });
    expect(seen.at(-1)).toEqual({ authorization: `Bearer ${SECRET}`, body: JSON.stringify({ userId: 'ok', rejectedToken: 'BQ-old-token-5678' }) });
  });

  it('maps each answer to what the caller must do', async () => {
    answers.set('reauth', { status: 409, body: { error: 'reauth_required', message: 'log in again' } });
    answers.set('limited', { status: 429, body: { error: 'rate_limited', retryAt: '2030-01-01T00:00:00.000Z', reason: 'quota-exceeded' } });
    answers.set('down', { status: 503, body: { error: 'unavailable', message: 'later' } });
    answers.set('bad', { status: 400, body: { error: 'bad_request', message: 'userId' } });
    answers.set('secret', { status: 401, body: { error: 'unauthorized' } });
    answers.set('unknown', { status: 404, body: { error: 'unknown_user' } });
    answers.set('garbage', { status: 200, body: { token: 1 } });
    answers.set('html', { status: 502 });

    const reauth = await call('reauth').catch((e: unknown) => e);
    expect(reauth).toBeInstanceOf(ReauthRequiredError);
    expect((reauth as ReauthRequiredError).userId).toBe('reauth');
    const limited = await call('limited').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).until.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect((limited as RateLimitedError).reason).toBe('quota-exceeded');
    await expect(call('down')).rejects.toBeInstanceOf(TransientError);
    await expect(call('bad')).rejects.toMatchObject({ rule: 'token-bad-request' });
    await expect(call('secret')).rejects.toMatchObject({ rule: 'token-unauthorized' });
    await expect(call('unknown')).rejects.toBeInstanceOf(PermanentError);
    await expect(call('garbage')).rejects.toBeInstanceOf(TransientError);
    await expect(call('html')).rejects.toBeInstanceOf(TransientError);
  });

  it('turns a timeout and a refused connection into TransientError', async () => {
    answers.set('hang', { status: 200, hang: true });
    const slow = await call('hang', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(TransientError);
    expect((slow as Error).message).toContain('timed out');
    await expect(fetchAccessToken({ authUrl: 'http://127.0.0.1:9', secret: SECRET, userId: 'x' })).rejects.toBeInstanceOf(TransientError);
  });
});
