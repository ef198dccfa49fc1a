import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { registerSecret } from '../src/redact.ts';

const ACCESS = 'BQDaccessTOKEN0123456789abcdefXYZ';
const REFRESH = 'AQBrefreshTOKEN9876543210zyxwvuQRS';
const SECRET = 'client-secret-5f2b9c7e1d';
const CODE = 'AQCauthCODEabcdef0123456789';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'debug', destination }) };
}

/** The check the whole suite relies on: does any planted value (or its base64/hex form) appear? */
function leaks(output: string, values: string[]): string[] {
  return values.filter((v) =>
    [v, Buffer.from(v).toString('base64'), Buffer.from(v).toString('hex')].some((form) => output.includes(form)),
  );
}

describe('logger redaction', () => {
  it('removes tokens, secrets, codes and authorization headers wherever they appear', () => {
    const { lines, logger } = capture();
    logger.debug({ access_token: ACCESS, refresh_token: REFRESH, client_secret: SECRET }, 'top level');
    logger.debug({ req: { headers: { authorization: `Bearer ${ACCESS}`, cookie: `session=${REFRESH}` } } }, 'nested');
    logger.debug({ response: { body: { tokens: [{ accessToken: ACCESS }] } } }, 'deeper');
    logger.debug({ url: `http://127.0.0.1/callback?code=${CODE}&state=abc` }, 'in a url');
    logger.debug({ code: CODE }, 'an oauth code by key');
    logger.debug(`sending Authorization: Basic ${Buffer.from(`id:${SECRET}`).toString('base64')}`);
    const cause = new Error(`token endpoint said {"access_token":"${ACCESS}","refresh_token":"${REFRESH}"}`);
    logger.error({ err: new Error(`refresh failed for Bearer ${ACCESS}`, { cause }) }, 'error with a cause');
    logger.error(Object.assign(new Error('failed'), { config: { headers: { Authorization: `Bearer ${ACCESS}` } } }));
    registerSecret(SECRET);
    logger.info(`a message that carries the secret ${SECRET} in plain words`);

    const output = lines.join('');
    expect(lines.length).toBe(9);
    expect(leaks(output, [ACCESS, REFRESH, SECRET, CODE])).toEqual([]);
    expect(output).toContain('[REDACTED]');
  });

  it('keeps what is not secret: error codes, ids, messages', () => {
    const { lines, logger } = capture();
    logger.warn({ err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), userId: 'u1' }, 'db down');
    const line = JSON.parse(lines[0] ?? '{}') as { err: { code: string; message: string }; userId: string; msg: string };
    expect(line.err.code).toBe('ECONNREFUSED');
    expect(line.err.message).toBe('connect ECONNREFUSED');
    expect(line.userId).toBe('u1');
    expect(line.msg).toBe('db down');
  });

  it('the leak check catches an unredacted line (so the tests above can fail)', () => {
    const unredacted = JSON.stringify({ note: `plain ${ACCESS}`, encoded: Buffer.from(REFRESH).toString('base64') });
    expect(leaks(unredacted, [ACCESS, REFRESH, SECRET])).toEqual([ACCESS, REFRESH]);
  });
});
