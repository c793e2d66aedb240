import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIssues } from '../../src/http/request-body.ts';
import { ReferralInput } from '../../src/referrals/referral.schema.ts';
import type { Issue } from '../../src/referrals/referral.schema.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { changed, issuesOf } from './referral.helpers.ts';

// zod's own wording ("Invalid input: expected string, received number") means little to a crew member.
const ZOD_WORDING = /expected|received|Invalid input|Unrecognized/;

function assertWellFormed(body: unknown): Issue[] {
  const result = ReferralInput.safeParse(body);
  if (result.success) return [];
  const issues = formatIssues(result.error);
  assert.ok(issues.length >= 1, 'a failed parse yields at least one issue');
  for (const issue of issues) {
    assert.equal(typeof issue.path, 'string');
    assert.equal(typeof issue.message, 'string');
    assert.ok(issue.message.length > 0);
    assert.doesNotMatch(issue.message, ZOD_WORDING);
  }
  assert.equal(new Set(issues.map((i) => i.path)).size, issues.length, 'one issue per path');
  return issues;
}

/** Every dotted path in a JSON value, objects and arrays alike. */
function pathsIn(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...pathsIn(child, path)];
  });
}

const examplePaths = pathsIn(exampleReferral());

test('property: any JSON value or JS value parses without throwing, and failures are well formed', () => {
  fc.assert(fc.property(fc.jsonValue(), (body) => void assertWellFormed(body)));
  fc.assert(fc.property(fc.anything(), (body) => void assertWellFormed(body)));
});

test('property: the example with fields replaced, removed or added still yields well-formed issues', () => {
  const mutation = fc.record({
    path: fc.constantFrom(...examplePaths),
    value: fc.oneof(fc.jsonValue(), fc.anything(), fc.constant(undefined)),
    extraKey: fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      let body: Record<string, unknown> = exampleReferral();
      for (const { path, value, extraKey } of mutations) {
        if (!isReachable(body, path)) continue;
        body = changed(path, value, body);
        if (extraKey !== undefined && !(extraKey in body)) body = { ...body, [extraKey]: 1 };
      }
      assertWellFormed(body);
    }),
  );
});

function isReachable(body: unknown, path: string): boolean {
  const keys = path.split('.');
  keys.pop();
  let node = body;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null;
}

const validNhsNumber = fc
  .stringMatching(/^[1-9]\d{8}$/)
  .map((nine) => {
    const sum = [...nine].reduce((total, d, i) => total + (10 - i) * Number(d), 0);
    const check = 11 - (sum % 11);
    return check === 10 ? undefined : nine + String(check % 11);
  })
  .filter((n): n is string => n !== undefined);

const secretText = fc.string({ minLength: 8, maxLength: 40 }).filter((s) => s.trim().length >= 8);

test("property: no issue message repeats the subject's names or NHS number, wherever they were put", () => {
  fc.assert(
    fc.property(secretText, secretText, validNhsNumber, (givenName, familyName, nhsNumber) => {
      let body = changed('subject.givenName', givenName);
      body = changed('subject.familyName', familyName.repeat(20), body);
      body = changed(
        'subject.nhsNumber',
        nhsNumber.slice(0, 9) + String((Number(nhsNumber[9]) + 1) % 10),
        body,
      );
      for (const [path, value] of [
        ['subject.dateOfBirth', givenName],
        ['subject.address.postcode', familyName],
        ['subject.phone', nhsNumber],
        ['referrer.email', givenName],
        ['subjectType', familyName],
        ['categories', [givenName, nhsNumber]],
        ['incident.occurredAt', nhsNumber],
      ] as const) {
        body = changed(path, value, body);
      }
      body[givenName] = familyName;
      const messages = issuesOf(body).map((issue) => issue.message);
      assert.ok(messages.length >= 8);
      for (const secret of [givenName.trim(), familyName.trim(), nhsNumber]) {
        for (const message of messages)
          assert.ok(!message.includes(secret), `message repeats input: ${message}`);
      }
    }),
  );
});
