import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseDataKeys, type DataKey } from '../../src/config.ts';
import {
  decryptField,
  encryptField,
  FieldCryptoError,
  isEncrypted,
  keyIdOf,
  openField,
} from '../../src/records/field-crypto.ts';

const key = (id: string): DataKey => ({ id, key: randomBytes(32) });
const A = key('2025-a');
const B = key('2026-b');
const AAD = 'referrals.payload:r1';
const SECRET = 'Edna Whitfield, 943 476 5919, Flat 2, 14 Elmdon Road';

/** Flips one character of one base64url part (index 2 = IV, 3 = tag, 4 = ciphertext). */
function tamper(stored: string, part: number): string {
  const parts = stored.split(':');
  const value = parts[part] ?? '';
  const flipped = (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
  parts[part] = flipped;
  return parts.join(':');
}

describe('field encryption', () => {
  it('round-trips under the newest key, with a fresh IV every time', () => {
    const one = encryptField([A, B], SECRET, AAD);
    const two = encryptField([A, B], SECRET, AAD);
    assert.match(one, /^enc1:2026-b:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    assert.notEqual(one, two);
    assert.ok(!one.includes('Edna'));
    assert.equal(keyIdOf(one), '2026-b');
    assert.equal(decryptField([A, B], one, AAD), SECRET);
    assert.equal(decryptField([B], one, AAD), SECRET, 'only the key it names is needed');
    assert.equal(encryptField([A], '', AAD).split(':').length, 5, 'empty text encrypts too');
    assert.equal(decryptField([A], encryptField([A], '', AAD), AAD), '');
  });

  it('decrypts with an older key still configured after a new one is added', () => {
    const old = encryptField([A], SECRET, AAD);
    assert.equal(decryptField([A, B], old, AAD), SECRET);
  });

  it('refuses a tampered IV, tag or ciphertext', () => {
    const stored = encryptField([A], SECRET, AAD);
    for (const part of [2, 3, 4]) {
      assert.throws(() => decryptField([A], tamper(stored, part), AAD), FieldCryptoError);
    }
  });

  it('refuses a value read as another column or row (wrong AAD)', () => {
    const stored = encryptField([A], SECRET, AAD);
    assert.throws(
      () => decryptField([A], stored, 'routes.outcome_note:r1'),
      (e: Error) => e instanceof FieldCryptoError && /integrity check/.test(e.message),
    );
    assert.throws(() => decryptField([A], stored, 'referrals.payload:r2'), FieldCryptoError);
  });

  it('names a missing key id, and never the content', () => {
    const stored = encryptField([A], SECRET, AAD);
    assert.throws(
      () => decryptField([B], stored, AAD),
      (e: Error) =>
        e instanceof FieldCryptoError &&
        e.message.includes('"2025-a"') &&
        !e.message.includes('Edna') &&
        !e.message.includes(stored),
    );
  });

  it('tells encrypted values from legacy plain text, which still reads', () => {
    const stored = encryptField([A], SECRET, AAD);
    assert.equal(isEncrypted(stored), true);
    assert.equal(isEncrypted('{"subject":{}}'), false);
    assert.equal(isEncrypted('enc1: a note that merely starts so'), false);
    assert.equal(keyIdOf('plain'), undefined);
    assert.equal(openField([A], '{"subject":{}}', AAD), '{"subject":{}}');
    assert.equal(openField([A], stored, AAD), SECRET);
  });

  it('works with keys as RELAY_DATA_KEYS gives them', () => {
    const keys = parseDataKeys(
      `k1:${randomBytes(32).toString('base64')},k2:${randomBytes(32).toString('base64')}`,
    );
    assert.equal(keyIdOf(encryptField(keys, SECRET, AAD)), 'k2');
    assert.throws(() => encryptField([], SECRET, AAD), /No data key/);
  });
});
