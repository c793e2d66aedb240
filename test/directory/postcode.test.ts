import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  classifyPrefix,
  isValidFullPostcode,
  normalisePostcode,
  parsePostcode,
  prefixCandidates,
} from '../../src/directory/postcode.ts';

const FIRST = 'ABCDEFGHIJKLMNOPRSTUWYZ';
const SECOND = 'ABCDEFGHKLMNOPQRSTUVWXY';
const THIRD = 'ABCDEFGHJKPSTUW';
const FOURTH = 'ABEHMNPRVWXY';
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

const letter = (chars: string) => fc.constantFrom(...chars.split(''));
const digit = fc.integer({ min: 0, max: 9 }).map(String);

const outwardArb = fc.oneof(
  fc.tuple(letter(FIRST), fc.integer({ min: 0, max: 99 })).map(([a, n]) => `${a}${n}`),
  fc.tuple(letter(FIRST), letter(SECOND), fc.integer({ min: 0, max: 99 })).map(([a, b, n]) => `${a}${b}${n}`),
  fc.tuple(letter(FIRST), digit, letter(THIRD)).map((parts) => parts.join('')),
  fc.tuple(letter(FIRST), letter(SECOND), digit, letter(FOURTH)).map((parts) => parts.join('')),
);
const inwardArb = fc.tuple(digit, letter(INWARD_LETTERS), letter(INWARD_LETTERS)).map((p) => p.join(''));
const fullArb = fc.tuple(outwardArb, inwardArb).map(([o, i]) => `${o} ${i}`);

/** The same postcode with random case and random whitespace between and around its characters. */
const messyVariant = (postcode: string) => {
  const chars = postcode.replace(' ', '').split('');
  return fc
    .tuple(
      fc.array(fc.boolean(), { minLength: chars.length, maxLength: chars.length }),
      fc.array(fc.constantFrom('', '', ' ', '  ', '\t', '\u00a0'), {
        minLength: chars.length + 1,
        maxLength: chars.length + 1,
      }),
    )
    .map(
      ([lower, gaps]) =>
        gaps[0] + chars.map((c, i) => (lower[i] ? c.toLowerCase() : c) + gaps[i + 1]).join(''),
    );
};

describe('normalisePostcode', () => {
  it('normalises case and spacing of full postcodes', () => {
    assert.equal(normalisePostcode(' b15  2tt'), 'B15 2TT');
    assert.equal(normalisePostcode('b152tt'), 'B15 2TT');
    assert.equal(normalisePostcode('B15\t2TT'), 'B15 2TT');
    assert.equal(normalisePostcode('ec1a1bb'), 'EC1A 1BB');
    assert.equal(normalisePostcode('w1a 0ax'), 'W1A 0AX');
    assert.equal(normalisePostcode('Wv10 0qP'), 'WV10 0QP');
    assert.equal(normalisePostcode('M11AE'), 'M1 1AE');
  });

  it('upper-cases an outward code given alone', () => {
    assert.equal(normalisePostcode(' wv10 '), 'WV10');
    assert.equal(normalisePostcode('b15'), 'B15');
  });

  it('rejects what is not a postcode', () => {
    for (const bad of [
      '',
      '   ',
      'hello',
      '12345',
      'B15 2T',
      'B15 2TTT',
      'QQ1 1AA',
      'B15 2TC',
      'B15 2',
      'WV1 0',
      'W V10',
    ]) {
      assert.equal(normalisePostcode(bad), null, bad);
    }
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fullArb, outwardArb, fc.string()), (s) => {
        const once = normalisePostcode(s);
        if (once !== null) assert.equal(normalisePostcode(once), once);
      }),
    );
  });

  it('gives the same result for any case and spacing of a full postcode', () => {
    fc.assert(
      fc.property(
        fullArb.chain((pc) => fc.tuple(fc.constant(pc), messyVariant(pc))),
        ([pc, variant]) => normalisePostcode(variant) === pc,
      ),
    );
  });
});

describe('parsePostcode', () => {
  it('splits a full postcode into area, district, sector and full', () => {
    assert.deepEqual(parsePostcode('wv10 0qp'), {
      area: 'WV',
      district: 'WV10',
      sector: 'WV10 0',
      full: 'WV10 0QP',
    });
    assert.deepEqual(parsePostcode('EC1A 1BB'), {
      area: 'EC',
      district: 'EC1A',
      sector: 'EC1A 1',
      full: 'EC1A 1BB',
    });
  });

  it('matches structurally: BA1 is in area BA, not B', () => {
    assert.equal(parsePostcode('BA1 1AA')?.area, 'BA');
    assert.equal(parsePostcode('B1 1AA')?.area, 'B');
    assert.equal(parsePostcode('B11 1AA')?.district, 'B11');
  });

  it('accepts an outward code alone, with no sector or full postcode', () => {
    assert.deepEqual(parsePostcode('B15'), { area: 'B', district: 'B15' });
  });

  it('never throws, and anything it accepts has a valid outward code', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const parsed = parsePostcode(s);
        if (parsed) assert.match(parsed.district, /^[A-Z]{1,2}[0-9][A-Z0-9]?$/);
      }),
    );
  });
});

describe('isValidFullPostcode', () => {
  it('is true only for full postcodes', () => {
    assert.equal(isValidFullPostcode('sw1a 1aa'), true);
    assert.equal(isValidFullPostcode('SY23 1AA'), true);
    assert.equal(isValidFullPostcode('SW1A'), false);
    assert.equal(isValidFullPostcode('SW1A 1'), false);
    assert.equal(isValidFullPostcode('not one'), false);
  });

  it('holds for every generated postcode', () => {
    fc.assert(fc.property(fullArb, (pc) => isValidFullPostcode(pc)));
  });
});

describe('classifyPrefix', () => {
  it('classifies areas, districts, sectors and full postcodes, normalised', () => {
    assert.deepEqual(classifyPrefix('B'), { kind: 'area', prefix: 'B' });
    assert.deepEqual(classifyPrefix(' ws '), { kind: 'area', prefix: 'WS' });
    assert.deepEqual(classifyPrefix('b15'), { kind: 'district', prefix: 'B15' });
    assert.deepEqual(classifyPrefix('WV10'), { kind: 'district', prefix: 'WV10' });
    assert.deepEqual(classifyPrefix('ec1a'), { kind: 'district', prefix: 'EC1A' });
    assert.deepEqual(classifyPrefix('b15   2'), { kind: 'sector', prefix: 'B15 2' });
    assert.deepEqual(classifyPrefix('b152tt'), { kind: 'full', prefix: 'B15 2TT' });
    assert.deepEqual(classifyPrefix('B15 2TT'), { kind: 'full', prefix: 'B15 2TT' });
  });

  it('requires the space in a sector, since WV10 would otherwise be WV1 0 or WV10', () => {
    assert.deepEqual(classifyPrefix('WV1 0'), { kind: 'sector', prefix: 'WV1 0' });
    assert.deepEqual(classifyPrefix('WV10'), { kind: 'district', prefix: 'WV10' });
    assert.equal(classifyPrefix('B152'), null);
  });

  it('rejects non-prefixes', () => {
    for (const bad of ['', '1B', 'BAA', 'B15 22', 'B15 2T', 'Q1', 'B15-2TT'])
      assert.equal(classifyPrefix(bad), null, bad);
  });

  it('agrees with parsePostcode on every part of a postcode', () => {
    fc.assert(
      fc.property(fullArb, (pc) => {
        const parsed = parsePostcode(pc);
        assert.ok(parsed);
        assert.equal(classifyPrefix(parsed.area)?.kind, 'area');
        assert.equal(classifyPrefix(parsed.district)?.kind, 'district');
        assert.equal(classifyPrefix(parsed.sector ?? '')?.kind, 'sector');
        assert.equal(classifyPrefix(parsed.full ?? '')?.kind, 'full');
      }),
    );
  });
});

describe('prefixCandidates', () => {
  it('lists the most specific key first', () => {
    const parsed = parsePostcode('B15 2TT');
    assert.ok(parsed);
    assert.deepEqual(prefixCandidates(parsed), ['B15 2TT', 'B15 2', 'B15', 'B']);
    const outward = parsePostcode('B15');
    assert.ok(outward);
    assert.deepEqual(prefixCandidates(outward), ['B15', 'B']);
  });
});
