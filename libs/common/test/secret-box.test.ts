import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyringError, SecretBoxError, createSecretBox, TOKEN_ENCRYPTION_KEYS_PATTERN } from '../src/secret-box.ts';

const key = () => randomBytes(32).toString('base64');

function failure(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError);
    return error as SecretBoxError;
  }
  throw new Error('expected a SecretBoxError');
}

describe('secret box', () => {
  const secret = 'AQD-refresh-token-' + randomBytes(24).toString('hex');

  it('round-trips under the current key and never holds the plaintext', () => {
    const box = createSecretBox(`k1:${key()}`);
    const sealed = box.seal(secret);
    expect(sealed.keyId).toBe('k1');
    expect(box.open(sealed)).toBe(secret);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    expect(raw.length).toBe(12 + 16 + Buffer.byteLength(secret));
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
      expect(JSON.stringify(sealed)).not.toContain(form);
    }
    expect(box.seal(secret).ciphertext).not.toBe(sealed.ciphertext); // fresh IV each time
  });

  it('opens values sealed under an old key after a new key becomes current', () => {
    const old = `2025:${key()}`;
    const before = createSecretBox(old);
    const sealed = before.seal(secret, 'refresh:u1');
    const after = createSecretBox(`2026:${key()},${old}`);
    expect(after.currentKeyId).toBe('2026');
    expect(after.open(sealed, 'refresh:u1')).toBe(secret);
    expect(after.seal(secret).keyId).toBe('2026');
  });

  it('refuses another key under the same id, with a clear error and no secret in it', () => {
    const sealed = createSecretBox(`k1:${key()}`).seal(secret);
    const error = failure(() => createSecretBox(`k1:${key()}`).open(sealed));
    expect(error.reason).toBe('authentication-failed');
    expect(error.message).toMatch(/altered|not the key/);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(sealed.ciphertext);
  });

  it('refuses an unknown key id', () => {
    const sealed = createSecretBox(`old:${key()}`).seal(secret);
    const error = failure(() => createSecretBox(`new:${key()}`).open(sealed));
    expect(error.reason).toBe('unknown-key');
    expect(error.message).toContain('"old"');
  });

  it('refuses a value with any single byte flipped', () => {
    const box = createSecretBox(`k1:${key()}`);
    const sealed = box.seal(secret);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    for (let i = 0; i < raw.length; i += 1) {
      const flipped = Buffer.from(raw);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      const error = failure(() => box.open({ keyId: 'k1', ciphertext: flipped.toString('base64') }));
      expect(error.reason).toBe('authentication-failed');
    }
    expect(failure(() => box.open({ keyId: 'k1', ciphertext: 'AAAA' })).reason).toBe('malformed');
  });

  it('binds the context: a value moved to another user does not open', () => {
    const box = createSecretBox(`k1:${key()}`);
    const sealed = box.seal(secret, 'refresh:alice');
    expect(failure(() => box.open(sealed, 'refresh:mallory')).reason).toBe('authentication-failed');
  });

  it('rejects bad key specs without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    for (const spec of ['', 'nokey', `k1:${short}`, `:${key()}`, `k1:${key()},k1:${key()}`, 'k1:not base64!']) {
      let caught: unknown;
      try {
        createSecretBox(spec);
      } catch (error) {
        caught = error;
      }
      expect(caught, spec).toBeInstanceOf(KeyringError);
      expect((caught as Error).message).not.toContain(short);
    }
    const re = new RegExp(TOKEN_ENCRYPTION_KEYS_PATTERN);
    expect(re.test(`a:${key()},b:${key()}`)).toBe(true);
    expect(re.test(`a:${short}`)).toBe(false);
  });
});
