// Encryption at rest for tokens: AES-256-GCM with a keyring from TOKEN_ENCRYPTION_KEYS
// (`keyId:base64-of-32-bytes[,keyId:...]`, the first key is current). Every value carries the id of the key that
// sealed it, so a new current key can be introduced while values sealed under older keys still open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Same shape as the store's EncryptedValue (libs/common imports no other lib). */
export interface SealedValue {
  keyId: string;
  /** base64 of iv (12 bytes) | auth tag (16 bytes) | ciphertext */
  ciphertext: string;
}

export type SecretBoxFailure = 'unknown-key' | 'authentication-failed' | 'malformed';

/** A value cannot be opened. The message names the key id and the cause, never the value or a key. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  readonly reason: SecretBoxFailure;
  readonly keyId: string;
  constructor(reason: SecretBoxFailure, keyId: string, message: string) {
    super(message);
    this.reason = reason;
    this.keyId = keyId;
  }
}

/** TOKEN_ENCRYPTION_KEYS is unusable. The message never echoes key material. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A JSON-Schema pattern for TOKEN_ENCRYPTION_KEYS (32-byte keys in standard base64 with padding). */
export const TOKEN_ENCRYPTION_KEYS_PATTERN = '^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/]{43}=)*$';

export interface SecretBox {
  readonly currentKeyId: string;
  readonly keyIds: readonly string[];
  /** `context` (such as `refresh:<userId>`) is authenticated, not stored: opening needs the same context. */
  seal(plaintext: string, context?: string): SealedValue;
  open(value: SealedValue, context?: string): string;
}

export function parseKeyring(spec: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  const entries = spec.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new KeyringError('TOKEN_ENCRYPTION_KEYS holds no key');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const keyId = colon > 0 ? entry.slice(0, colon) : '';
    const material = colon > 0 ? entry.slice(colon + 1) : '';
    if (!KEY_ID.test(keyId)) {
      throw new KeyringError(`TOKEN_ENCRYPTION_KEYS entry ${index + 1}: expects keyId:base64 (key id of letters, digits, _ . -)`);
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== material) {
      throw new KeyringError(`TOKEN_ENCRYPTION_KEYS key "${keyId}": expects the base64 of exactly 32 bytes`);
    }
    if (keys.has(keyId)) throw new KeyringError(`TOKEN_ENCRYPTION_KEYS: key id "${keyId}" appears twice`);
    keys.set(keyId, key);
  });
  return keys;
}

export function createSecretBox(spec: string): SecretBox {
  const keys = parseKeyring(spec);
  const keyIds = [...keys.keys()];
  const currentKeyId = keyIds[0] as string;
  const currentKey = keys.get(currentKeyId) as Buffer;

  return {
    currentKeyId,
    keyIds,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES });
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { keyId: currentKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64') };
    },
    open(value, context) {
      const key = keys.get(value.keyId);
      if (!key) {
        throw new SecretBoxError(
          'unknown-key',
          value.keyId,
          `value was encrypted with key "${value.keyId}", which TOKEN_ENCRYPTION_KEYS does not hold (known: ${keyIds.join(', ')})`,
        );
      }
      const raw = Buffer.from(value.ciphertext, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) {
        throw new SecretBoxError('malformed', value.keyId, `encrypted value under key "${value.keyId}" is too short to be one`);
      }
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError(
          'authentication-failed',
          value.keyId,
          `encrypted value under key "${value.keyId}" failed authentication: it was altered, or key "${value.keyId}" is not the key that sealed it`,
        );
      }
    },
  };
}
