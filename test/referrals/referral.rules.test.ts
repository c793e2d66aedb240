import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainstClock, deriveSubjectType } from '../../src/referrals/referral.schema.ts';
import { changed, parsed, pathsOf } from './referral.helpers.ts';

function ageBody(dateOfBirth: string, occurredAt: string) {
  return changed('incident.occurredAt', occurredAt, changed('subject.dateOfBirth', dateOfBirth));
}

const boundaries: [dateOfBirth: string, occurredAt: string, expected: 'adult' | 'child'][] = [
  ['2008-11-25', '2026-11-25T10:15:00Z', 'adult'], // the 18th birthday itself
  ['2008-11-26', '2026-11-25T10:15:00Z', 'child'], // the day before it
  // An 18th birthday is never in a leap year, so a leap-day birth turns 18 on 1 March.
  ['2008-02-29', '2026-02-28T12:00:00Z', 'child'],
  ['2008-02-29', '2026-03-01T00:00:00Z', 'adult'],
  ['2010-02-28', '2028-02-28T09:00:00Z', 'adult'], // leap-year incident, ordinary birthday
  ['2010-03-01', '2028-02-29T09:00:00Z', 'child'],
  // Ages are reckoned on the date in England: 23:30 UTC on 24 June is already 25 June in BST.
  ['2008-06-25', '2026-06-24T23:30:00Z', 'adult'],
  ['2008-06-25', '2026-06-24T22:30:00Z', 'child'],
  ['2008-06-25', '2026-06-25T00:30:00+01:00', 'adult'],
  // In winter England is on UTC, so this +01:00 time is still 28 February there.
  ['2008-02-29', '2026-03-01T00:30:00+01:00', 'child'],
];

for (const [dateOfBirth, occurredAt, expected] of boundaries) {
  test(`born ${dateOfBirth}, incident ${occurredAt}: ${expected}`, () => {
    assert.equal(deriveSubjectType({ incident: { occurredAt }, subject: { dateOfBirth } }), expected);
    const other = expected === 'adult' ? 'child' : 'adult';
    const body = changed('categories', ['other'], ageBody(dateOfBirth, occurredAt));
    assert.deepEqual(pathsOf(changed('subjectType', expected, body)), []);
    assert.deepEqual(pathsOf(changed('subjectType', other, body)), ['subjectType']);
  });
}

test('the age estimate decides when there is no date of birth; a date of birth outranks it', () => {
  const occurredAt = '2026-11-25T10:15:00Z';
  assert.equal(deriveSubjectType({ incident: { occurredAt }, subject: { ageEstimate: 17 } }), 'child');
  assert.equal(deriveSubjectType({ incident: { occurredAt }, subject: { ageEstimate: 18 } }), 'adult');
  assert.equal(
    deriveSubjectType({ incident: { occurredAt }, subject: { dateOfBirth: '1939-04-12', ageEstimate: 12 } }),
    'adult',
  );
  const estimated = changed('subject.ageEstimate', 15, changed('subject.dateOfBirth', undefined));
  assert.equal(deriveSubjectType(parsed(changed('categories', ['emotional'], estimated))), 'child');
  assert.deepEqual(pathsOf(estimated), ['categories.1'], 'financial abuse is an adult category');
});

test('deriveSubjectType refuses to guess without a date of birth or an age estimate', () => {
  assert.throws(() => deriveSubjectType({ incident: { occurredAt: '2026-11-25T10:15:00Z' }, subject: {} }));
});

test('a date of birth after the incident is reported once, without a knock-on subject type error', () => {
  const body = changed('subjectType', 'adult', ageBody('2026-11-26', '2026-11-25T10:15:00Z'));
  assert.deepEqual(pathsOf(body), ['subject.dateOfBirth']);
});

const now = new Date('2026-11-25T10:20:00Z');

function clockPaths(body: unknown, at = now): string[] {
  return checkAgainstClock(parsed(body), at).map((issue) => issue.path);
}

test('checkAgainstClock: the example is fine now', () => {
  assert.deepEqual(checkAgainstClock(parsed(changed('referralType', 'safeguarding')), now), []);
});

test('checkAgainstClock: occurredAt may be up to 10 minutes ahead of the clock, not more', () => {
  assert.deepEqual(clockPaths(changed('incident.occurredAt', '2026-11-25T10:30:00Z')), []);
  assert.deepEqual(clockPaths(changed('incident.occurredAt', '2026-11-25T11:30:01+01:00')), [
    'incident.occurredAt',
  ]);
});

test('checkAgainstClock: occurredAt no more than a year ago', () => {
  assert.deepEqual(clockPaths(changed('incident.occurredAt', '2025-11-25T10:20:00Z')), []);
  assert.deepEqual(clockPaths(changed('incident.occurredAt', '2025-11-25T10:19:59Z')), [
    'incident.occurredAt',
  ]);
});

test('checkAgainstClock: a date of birth after today in England is in the future', () => {
  const nearMidnight = new Date('2026-11-25T23:58:00Z');
  const body = ageBody('2026-11-26', '2026-11-26T00:01:00Z');
  const childBody = changed('categories', ['other'], changed('subject.ageEstimate', 0, body));
  assert.deepEqual(clockPaths(childBody, nearMidnight), ['subject.dateOfBirth']);
  // 23:30 UTC on 25 June is already 26 June in England, so a baby born that day is not in the future.
  const summer = ageBody('2026-06-26', '2026-06-25T23:30:00Z');
  assert.deepEqual(
    clockPaths(changed('categories', ['other'], summer), new Date('2026-06-25T23:31:00Z')),
    [],
  );
});

test('a date of birth and an age estimate that contradict each other are both named', () => {
  // Born 12 April 1939: 87 on the example's incident date in November 2026.
  const both = (estimate: number) => changed('subject.ageEstimate', estimate);
  assert.deepEqual(pathsOf(both(30)), ['subject.dateOfBirth', 'subject.ageEstimate']);
  assert.deepEqual(pathsOf(both(85)), [], 'an estimate two years out is still an estimate');
  assert.deepEqual(pathsOf(both(84)), ['subject.dateOfBirth', 'subject.ageEstimate']);
});

test('a child with two adult categories has both named', () => {
  const child = changed(
    'subject.dateOfBirth',
    '2015-06-01',
    changed('categories', ['financial', 'emotional', 'self-neglect']),
  );
  assert.deepEqual(pathsOf(child), ['categories.0', 'categories.2']);
});
