import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Directory } from '../../src/directory/directory.types.ts';
import { buildCoverageIndex, lookupCoverage } from '../../src/directory/coverage.ts';

const directory: Directory = {
  name: 'coverage test',
  bankHolidays: [],
  authorities: [],
  coverage: [
    { prefix: 'B', authorityId: 'brum' },
    { prefix: 'BA1', authorityId: 'bath' },
    { prefix: 'B15', authorityId: 'edgbaston' },
    { prefix: 'B15 2TT', authorityId: 'hospital' },
    { prefix: 'WV4', split: ['wolves', 'dudley'] },
    { prefix: 'WV4 6', authorityId: 'wolves' },
    { prefix: 'WV5 1', split: ['wolves', 'staffs'] },
    { prefix: 'WV5', authorityId: 'staffs' },
    { prefix: 'dy1  1', authorityId: 'dudley' },
  ],
};

describe('lookupCoverage', () => {
  it('matches an area structurally: area B covers B1 but not BA2', () => {
    assert.deepEqual(lookupCoverage(directory, 'B1 1AA'), {
      kind: 'match',
      authorityId: 'brum',
      prefix: 'B',
    });
    assert.deepEqual(lookupCoverage(directory, 'BA2 1AA'), { kind: 'none' });
    assert.deepEqual(lookupCoverage(directory, 'BA1 1AA'), {
      kind: 'match',
      authorityId: 'bath',
      prefix: 'BA1',
    });
  });

  it('prefers the longest prefix: full over sector over district over area', () => {
    assert.deepEqual(lookupCoverage(directory, 'B15 2TT'), {
      kind: 'match',
      authorityId: 'hospital',
      prefix: 'B15 2TT',
    });
    assert.deepEqual(lookupCoverage(directory, 'B15 2TU'), {
      kind: 'match',
      authorityId: 'edgbaston',
      prefix: 'B15',
    });
    assert.deepEqual(lookupCoverage(directory, 'B16 2TT'), {
      kind: 'match',
      authorityId: 'brum',
      prefix: 'B',
    });
    assert.deepEqual(lookupCoverage(directory, 'WV4 6AB'), {
      kind: 'match',
      authorityId: 'wolves',
      prefix: 'WV4 6',
    });
  });

  it('reports a split district as ambiguous unless a longer entry settles it', () => {
    assert.deepEqual(lookupCoverage(directory, 'WV4 5AA'), {
      kind: 'ambiguous',
      prefix: 'WV4',
      candidates: ['wolves', 'dudley'],
    });
    assert.deepEqual(lookupCoverage(directory, 'wv46ab'), {
      kind: 'match',
      authorityId: 'wolves',
      prefix: 'WV4 6',
    });
  });

  it('lets a split sector override a settled district', () => {
    assert.equal(lookupCoverage(directory, 'WV5 1AA').kind, 'ambiguous');
    assert.deepEqual(lookupCoverage(directory, 'WV5 2AA'), {
      kind: 'match',
      authorityId: 'staffs',
      prefix: 'WV5',
    });
  });

  it('treats an outward code alone as ambiguous when its district is split, whatever its sectors say', () => {
    assert.equal(lookupCoverage(directory, 'WV4').kind, 'ambiguous');
    assert.deepEqual(lookupCoverage(directory, 'b15'), {
      kind: 'match',
      authorityId: 'edgbaston',
      prefix: 'B15',
    });
  });

  it('accepts any case and spacing, in postcodes and in directory prefixes', () => {
    assert.deepEqual(lookupCoverage(directory, ' dy1   1aa '), {
      kind: 'match',
      authorityId: 'dudley',
      prefix: 'DY1 1',
    });
    assert.deepEqual(lookupCoverage(directory, 'b152tt'), lookupCoverage(directory, 'B15 2TT'));
  });

  it('finds nothing for unknown, outside or malformed postcodes', () => {
    for (const pc of ['SW1A 1AA', 'SY23 1AA', 'DY2 1AA', '', 'nonsense', 'B15 2', '\u0000']) {
      assert.deepEqual(lookupCoverage(directory, pc), { kind: 'none' }, pc);
    }
  });
});

describe('buildCoverageIndex', () => {
  it('gives the same answers as the directory it was built from', () => {
    const index = buildCoverageIndex(directory.coverage);
    for (const pc of ['B1 1AA', 'B15 2TT', 'WV4 5AA', 'WV4 6AB', 'BA2 1AA', 'DY1 1AA', 'WV4']) {
      assert.deepEqual(lookupCoverage(index, pc), lookupCoverage(directory, pc), pc);
    }
  });

  it('keys entries by normalised prefix and skips entries that cannot match', () => {
    const index = buildCoverageIndex([
      { prefix: ' b15 ', authorityId: 'first' },
      { prefix: 'B15', authorityId: 'second' },
      { prefix: 'not a prefix', authorityId: 'x' },
      { prefix: 'B16' },
      { prefix: 'B17', split: [] },
    ]);
    assert.deepEqual([...index.prefixes.keys()], ['B15']);
    assert.deepEqual(lookupCoverage(index, 'B15 1AA'), {
      kind: 'match',
      authorityId: 'first',
      prefix: 'B15',
    });
  });
});
