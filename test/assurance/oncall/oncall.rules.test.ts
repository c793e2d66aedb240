import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findGaps,
  overlaps,
  parseRotaTime,
  validateShift,
} from '../../../src/assurance/oncall/oncall.rules.ts';

const at = (iso: string) => new Date(iso);

describe('rota times', () => {
  it('reads London wall-clock time in winter and in summer', () => {
    assert.equal(parseRotaTime('2026-12-07 09:00')?.toISOString(), '2026-12-07T09:00:00.000Z');
    assert.equal(parseRotaTime('2026-07-07T09:00')?.toISOString(), '2026-07-07T08:00:00.000Z');
  });

  it('reads ISO instants with their offset', () => {
    assert.equal(parseRotaTime('2026-12-07T09:00:00Z')?.toISOString(), '2026-12-07T09:00:00.000Z');
    assert.equal(parseRotaTime('2026-12-07T09:00+01:00')?.toISOString(), '2026-12-07T08:00:00.000Z');
  });

  it('refuses what is not a time', () => {
    for (const raw of [
      'tomorrow',
      '2026-13-01 09:00',
      '2026-02-30 09:00',
      '2026-12-07',
      '09:00',
      '2026-12-07 25:00',
    ])
      assert.equal(parseRotaTime(raw), undefined, raw);
  });
});

describe('a new rota entry', () => {
  const now = at('2026-12-06T10:00:00Z');

  it('is valid with a well-formed email and a future, forward shift', () => {
    const { shift, issues } = validateShift(
      { email: ' Jo.Bennett@Example.org ', from: '2026-12-07 09:00', to: '2026-12-08 09:00' },
      now,
    );
    assert.deepEqual(issues, []);
    assert.equal(shift?.email, 'jo.bennett@example.org');
  });

  it('names every problem at once, by field', () => {
    const { shift, issues } = validateShift({ email: 'jo at example', from: 'soon', to: '' }, now);
    assert.equal(shift, undefined);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['email', 'from', 'to'],
    );
  });

  it('refuses a shift that ends before it starts, ends in the past, or runs over 31 days', () => {
    const issue = (from: string, to: string) =>
      validateShift({ email: 'a@b.org', from, to }, now).issues[0]?.message;
    assert.match(issue('2026-12-07 09:00', '2026-12-07 08:00') ?? '', /end after it starts/);
    assert.match(issue('2026-12-07 09:00', '2026-12-07 09:00') ?? '', /end after it starts/);
    assert.match(issue('2026-12-01 09:00', '2026-12-06 09:00') ?? '', /end in the future/);
    assert.match(issue('2026-12-07 09:00', '2027-01-08 09:00') ?? '', /at most 31 days/);
  });
});

describe('gaps and overlaps', () => {
  const shift = (from: string, to: string) => ({ from: at(from), to: at(to) });

  it('finds the uncovered parts of a window, whatever the order of entries', () => {
    const gaps = findGaps(
      [shift('2026-12-07T09:00Z', '2026-12-08T09:00Z'), shift('2026-12-06T09:00Z', '2026-12-07T09:00Z')],
      at('2026-12-06T00:00Z'),
      at('2026-12-09T00:00Z'),
    );
    assert.deepEqual(
      gaps.map((g) => [g.from.toISOString(), g.to.toISOString()]),
      [
        ['2026-12-06T00:00:00.000Z', '2026-12-06T09:00:00.000Z'],
        ['2026-12-08T09:00:00.000Z', '2026-12-09T00:00:00.000Z'],
      ],
    );
  });

  it('finds no gap when entries cover the window back to back, and the whole window when there are none', () => {
    const window = [at('2026-12-06T09:00Z'), at('2026-12-08T09:00Z')] as const;
    const covered = [
      shift('2026-12-06T00:00Z', '2026-12-07T09:00Z'),
      shift('2026-12-07T09:00Z', '2026-12-09T00:00Z'),
    ];
    assert.deepEqual(findGaps(covered, ...window), []);
    assert.equal(findGaps([], ...window).length, 1);
  });

  it('treats back-to-back shifts as not overlapping', () => {
    assert.equal(
      overlaps(
        shift('2026-12-06T09:00Z', '2026-12-07T09:00Z'),
        shift('2026-12-07T09:00Z', '2026-12-08T09:00Z'),
      ),
      false,
    );
    assert.equal(
      overlaps(
        shift('2026-12-06T09:00Z', '2026-12-07T10:00Z'),
        shift('2026-12-07T09:00Z', '2026-12-08T09:00Z'),
      ),
      true,
    );
  });
});
