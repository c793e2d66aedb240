import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey } from '../config.ts';

/**
 * Field-level encryption at rest: AES-256-GCM under the newest of RELAY_DATA_KEYS, stored as
 * `enc1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url). The key id travels with the value so any
 * configured key can open it and rotation can find what is still on an old key. The additional
 * authenticated data names what the value is (column and row), so a value copied into another
 * column or row fails its integrity check instead of being shown as someone else's.
 */

const VERSION = 'enc1';
const IV_BYTES = 12;
// 12 bytes and 16 bytes in unpadded base64url; the exact shape keeps a legacy plain-text note
// that merely starts with "enc1:" from being taken for ciphertext.
const SHAPE = /^enc1:([^:]+):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]*)$/;

/** Never carries the value itself: messages name the key id and what went wrong. */
export class FieldCryptoError extends Error {
  override name = 'FieldCryptoError';
}

export function isEncrypted(stored: string): boolean {
  return SHAPE.test(stored);
}

/** The id of the key a stored value was encrypted under, or undefined for plain text. */
export function keyIdOf(stored: string): string | undefined {
  return SHAPE.exec(stored)?.[1];
}

/** The key that encrypts: the last one configured. */
export function newestKey(keys: readonly DataKey[]): DataKey {
  const key = keys.at(-1);
  if (!key) throw new FieldCryptoError('No data key is configured (RELAY_DATA_KEYS)');
  return key;
}

export function encryptField(keys: readonly DataKey[], plaintext: string, aad: string): string {
  const { id, key } = newestKey(keys);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, id, iv, tag, ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join(':');
}

export function decryptField(keys: readonly DataKey[], stored: string, aad: string): string {
  const parts = SHAPE.exec(stored);
  if (!parts) throw new FieldCryptoError('The stored value is not an encrypted field');
  const [, id = '', iv = '', tag = '', ciphertext = ''] = parts;
  const key = keys.find((k) => k.id === id);
  if (!key) {
    throw new FieldCryptoError(
      `A value is encrypted under data key "${id}", which is not in RELAY_DATA_KEYS: add it back (keys are removed only after "relay keys rotate")`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch (error) {
    throw new FieldCryptoError(
      `A value encrypted under data key "${id}" failed its integrity check: it was altered, or belongs to another field`,
      { cause: error },
    );
  }
}

/** Reads a value written before encryption was introduced as it is; anything encrypted must decrypt. */
export function openField(keys: readonly DataKey[], stored: string, aad: string): string {
  return isEncrypted(stored) ? decryptField(keys, stored, aad) : stored;
}
