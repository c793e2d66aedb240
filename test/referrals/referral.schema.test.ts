import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ReferralInput } from '../../src/referrals/referral.schema.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { changed, issuesOf, parsed, pathsOf } from './referral.helpers.ts';

test('the example referral is valid, and comes out trimmed and normalised', () => {
  assert.deepEqual(issuesOf(exampleReferral()), []);
  const out = parsed(changed('subject.givenName', '  Edna \n'));
  assert.equal(out.subject.givenName, 'Edna');
  assert.equal(out.subject.nhsNumber, '9434765919');
  assert.deepEqual(parsed(changed('subject.address.postcode', ' b152tt ')).subject.address, {
    line1: 'Flat 2, 14 Elmdon Road',
    town: 'Birmingham',
    postcode: 'B15 2TT',
  });
});

const bad: [path: string, value: unknown, reportedAt?: string][] = [
  ['source.system', undefined],
  ['source.reference', '   '],
  ['incident.occurredAt', '2026-11-25T10:15:00'],
  ['incident.occurredAt', '2026-02-30T10:15:00Z'],
  ['incident.location.postcode', 'XYZ'],
  ['incident.conveyed', 'yes'],
  ['referrer.phone', '12345'],
  ['referrer.phone', '+44 121 496'],
  ['referrer.email', 'priya.kaur'],
  ['subject.dateOfBirth', '2025-02-29'],
  ['subject.dateOfBirth', '1899-12-31'],
  ['subject.dateOfBirth', '2026-11-26'],
  ['subject.ageEstimate', 121],
  ['subject.ageEstimate', 2.5],
  ['subject.ageEstimate', 1e20],
  ['subject.nhsNumber', '9434765918'],
  ['subject.address.postcode', 'B15'],
  ['subject.address.town', undefined],
  [
    'subject.address',
    { noFixedAbode: false, town: 'Solihull', postcode: 'B91 3QB' },
    'subject.address.line1',
  ],
  ['subject.address', { noFixedAbode: 'yes' }, 'subject.address.noFixedAbode'],
  ['subject.address', { noFixedAbode: true, line1: 'Doorway' }, 'subject.address.line1'],
  ['subject.address', 'Birmingham'],
  ['subjectType', 'teen'],
  ['referralType', 'concern'],
  ['categories', []],
  ['categories', ['neglect', 'bogus'], 'categories.1'],
  ['categories', ['neglect', 'financial', 'neglect'], 'categories.2'],
  ['urgency', 'URGENT'],
  ['concern', ' \n '],
  ['concern', 'x'.repeat(10_001)],
  ['vulnerabilities', ['dementia', 'dementia'], 'vulnerabilities.1'],
  ['vulnerabilities', ['frail'], 'vulnerabilities.0'],
  ['householdChildren', 31],
  ['householdChildren', -1],
  ['allegedPerson', { details: 'Visits daily.' }, 'allegedPerson.name'],
  ['consent.capacity', 'unknown'],
  ['consent.given', 'true'],
  ['housholdChildren', 2],
  ['subject.nhsNo', '9434765919'],
];

for (const [path, value, reportedAt = path] of bad) {
  test(`${path} = ${JSON.stringify(value)?.slice(0, 40)} is one issue at ${reportedAt}`, () => {
    assert.deepEqual(pathsOf(changed(path, value)), [reportedAt]);
  });
}

test('valid variations pass: outward-only incident postcode, phones, no fixed abode, estimate only', () => {
  const ok = [
    changed('incident.location.postcode', 'B15'),
    changed('incident.location.postcode', 'sw1a1aa'),
    changed('referrer.phone', '+44 (0)121 496 0000'),
    changed('referrer.phone', '+1 202 555 0143'),
    changed('referrer.phone', '07700 900123'),
    changed('subject.address', { noFixedAbode: true }),
    changed('subject.dateOfBirth', undefined, changed('subject.ageEstimate', 80)),
    changed('allegedPerson', { name: 'Unknown male' }),
    changed('consent', {
      discussed: false,
      given: false,
      capacity: 'lacks-capacity',
      overrideReason: 'Risk to life.',
    }),
  ];
  for (const body of ok) assert.deepEqual(issuesOf(body), []);
});

test('cross-field rules report at their own paths', () => {
  const noAge = changed('subject.dateOfBirth', undefined);
  assert.deepEqual(pathsOf(noAge), ['subject.dateOfBirth']);
  assert.deepEqual(pathsOf(changed('subjectType', 'child')), ['subjectType']);
  assert.deepEqual(pathsOf(changed('categories', ['neglect', 'exploitation'])), ['categories.1']);
  assert.deepEqual(pathsOf(changed('consent.given', false)), ['consent.overrideReason']);
  assert.deepEqual(pathsOf(changed('consent.discussed', false)), ['consent.discussed']);
  const child = changed('subject.dateOfBirth', '2015-06-01', changed('categories', ['neglect']));
  assert.deepEqual(pathsOf(changed('categories', ['emotional', 'domestic-abuse', 'other'], child)), [
    'categories.1',
  ]);
  assert.deepEqual(
    issuesOf(changed('householdChildren', 3, child)),
    [],
    'household children on a child referral',
  );
});

test('every problem is reported together: field, unknown key and cross-field rules', () => {
  const body = changed('referrer.email', 'nope', changed('subject.nhsNumber', '123'));
  Object.assign(body, {
    subjectType: 'child',
    housholdChildren: 1,
    consent: { discussed: true, given: false, capacity: 'x' },
  });
  assert.deepEqual(pathsOf(body).sort(), [
    'consent.capacity',
    'consent.overrideReason',
    'housholdChildren',
    'referrer.email',
    'subject.nhsNumber',
    'subjectType',
  ]);
});

test('cross-field rules still run when another part of the body is broken', () => {
  const withoutConsentReason = changed('consent.given', false);
  for (const key of Object.keys(exampleReferral()).filter((k) => k !== 'consent')) {
    const paths = pathsOf(changed(key, 12345, withoutConsentReason));
    assert.ok(paths.includes('consent.overrideReason'), `${key} broken: ${paths.join(', ')}`);
    assert.ok(paths.includes(key), key);
  }
});

test('formatIssues: a body that is not an object is one issue at the root path ""', () => {
  for (const body of [null, 42, 'referral', []]) {
    assert.deepEqual(issuesOf(body), [{ path: '', message: 'Must be an object.' }]);
  }
  assert.deepEqual(
    issuesOf({}).find((i) => i.path === 'source'),
    { path: 'source', message: 'This field is required.' },
  );
});

test('unicode names are accepted and stored in NFC', () => {
  for (const name of ['Zoë', 'Siobhán', 'Nguyễn Thị Minh', '李小龍', "O'Brien-Łukasiewicz", 'Ngā Tāngata']) {
    const out = parsed(changed('subject.familyName', name));
    assert.equal(out.subject.familyName, name.normalize('NFC'));
  }
  assert.equal(parsed(changed('subject.givenName', 'Zoe\u0308')).subject.givenName, 'Zo\u00eb');
});

test('lengths are bounded: names at 100 characters, every string and list in the schema', () => {
  assert.deepEqual(issuesOf(changed('subject.givenName', 'é'.repeat(100))), []);
  assert.deepEqual(issuesOf(changed('subject.givenName', 'é'.repeat(101))), [
    { path: 'subject.givenName', message: 'Must be at most 100 characters.' },
  ]);
  const unbounded: string[] = [];
  (function walk(node: unknown, where: string): void {
    if (typeof node !== 'object' || node === null) return;
    const schema = node as Record<string, unknown>;
    if (schema.type === 'string' && schema.enum === undefined && schema.maxLength === undefined)
      unbounded.push(where);
    if (schema.type === 'array' && schema.maxItems === undefined) unbounded.push(where);
    for (const [key, child] of Object.entries(schema)) walk(child, `${where}/${key}`);
  })(z.toJSONSchema(ReferralInput, { io: 'input', unrepresentable: 'any' }), '#');
  assert.deepEqual(unbounded, []);
});

test('the schema converts to a JSON Schema object for OpenAPI', () => {
  const schema = z.toJSONSchema(ReferralInput, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  assert.equal(schema.type, 'object');
  assert.equal(schema.additionalProperties, false);
  const required = [
    'source',
    'incident',
    'referrer',
    'subject',
    'referralType',
    'categories',
    'urgency',
    'concern',
  ];
  for (const key of [...required, 'consent']) assert.ok((schema.required as string[]).includes(key), key);
  assert.ok(!(schema.required as string[]).includes('subjectType'));
});
