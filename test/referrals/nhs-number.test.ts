import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidNhsNumber, normaliseNhsNumber } from '../../src/referrals/nhs-number.ts';

test('accepts a valid number unbroken, or grouped with spaces or dashes', () => {
  for (const s of ['9434765919', '943 476 5919', '943-476-5919', '9434 765 919', '943 - 476 - 5919']) {
    assert.equal(isValidNhsNumber(s), true, s);
  }
});

test('a dashed number with a wrong check digit is still refused', () => {
  assert.equal(isValidNhsNumber('943-476-5918'), false);
});

test('rejects a wrong check digit', () => {
  assert.equal(isValidNhsNumber('9434765918'), false);
  assert.equal(isValidNhsNumber('9434765910'), false);
});

test('a remainder of 0 gives check digit 0 (11 maps to 0)', () => {
  const prefix = findPrefix((sum) => sum % 11 === 0);
  assert.equal(isValidNhsNumber(`${prefix}0`), true);
  assert.equal(isValidNhsNumber(`${prefix}1`), false);
});

test('a check value of 10 means no valid number has those first nine digits', () => {
  const prefix = findPrefix((sum) => sum % 11 === 1);
  for (let d = 0; d <= 9; d++) assert.equal(isValidNhsNumber(`${prefix}${d}`), false);
});

test('rejects other shapes: length, letters, other separators, surrounding space', () => {
  for (const s of [
    '943.476.5919',
    '943/476/5919',
    '-9434765919',
    '943476591',
    '94347659190',
    '94347659l9',
    ' 9434765919',
    '',
  ]) {
    assert.equal(isValidNhsNumber(s), false, s);
  }
});

test('rejects repeated-digit placeholders even though they pass the checksum', () => {
  assert.equal(isValidNhsNumber('0000000000'), false);
  assert.equal(isValidNhsNumber('1111111111'), false);
});

test('normaliseNhsNumber removes the spaces and dashes', () => {
  assert.equal(normaliseNhsNumber('943 476 5919'), '9434765919');
  assert.equal(normaliseNhsNumber('943-476-5919'), '9434765919');
  assert.equal(normaliseNhsNumber('9434765919'), '9434765919');
});

test('property: any nine digits have at most one valid check digit, the one modulus 11 gives', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^\d{9}$/), (prefix) => {
      const valid = [...'0123456789'].filter((d) => isValidNhsNumber(prefix + d));
      const check = 11 - (weightedSum(prefix) % 11);
      const digit = check === 11 ? '0' : check === 10 ? undefined : String(check);
      const expected = digit === undefined || /^(\d)\1{9}$/.test(prefix + digit) ? [] : [digit];
      assert.deepEqual(valid, expected);
      for (const d of valid)
        assert.equal(
          isValidNhsNumber(`${prefix.slice(0, 3)} ${prefix.slice(3, 6)} ${prefix.slice(6)}${d}`),
          true,
        );
    }),
  );
});

function weightedSum(nine: string): number {
  return [...nine].reduce((sum, digit, i) => sum + (10 - i) * Number(digit), 0);
}

function findPrefix(wanted: (sum: number) => boolean): string {
  for (let n = 400000000; ; n++) {
    if (wanted(weightedSum(String(n)))) return String(n);
  }
}
