/** Shared by the referral tests: parse-and-format in one call, and the example with one field changed. */
import { formatIssues } from '../../src/http/request-body.ts';
import { ReferralInput } from '../../src/referrals/referral.schema.ts';
import type { Issue, ReferralInputType } from '../../src/referrals/referral.schema.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';

export function issuesOf(body: unknown): Issue[] {
  const result = ReferralInput.safeParse(body);
  return result.success ? [] : formatIssues(result.error);
}

export function pathsOf(body: unknown): string[] {
  return issuesOf(body).map((issue) => issue.path);
}

export function parsed(body: unknown): ReferralInputType {
  return ReferralInput.parse(body);
}

/** A copy of the body (by default the example) with one dotted path set to a value; undefined deletes it. */
export function changed(
  path: string,
  value: unknown,
  body: unknown = exampleReferral(),
): Record<string, unknown> {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<Record<string, unknown>>(
    (node, key) => node[key] as Record<string, unknown>,
    copy,
  );
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}
