import assert from 'node:assert/strict';
import { exampleReferral, type ReferralBody } from '../../../src/referrals/referral.example.ts';
import { createUser, type Role } from '../../../src/access/user.service.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { formSession } from '../../helpers/web.ts';

export const PASSWORD = 'correct horse battery staple';

export type Browser = ReturnType<typeof formSession>;

/** An account with a known password, made directly (the admin pages' own creation is tested apart). */
export async function addUser(relay: TestRelay, email: string, roles: Role[], teams: string[] = []) {
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { email, name: email.split('@')[0], roles, teams, password: PASSWORD },
    'test',
    () => true,
  );
  return user;
}

/**
 * A browser signed in through the real sign-in form. The form is rate limited to 10 a minute per
 * address, so each test file signs in sparingly.
 */
export async function signIn(relay: TestRelay, email: string, password = PASSWORD): Promise<Browser> {
  const browser = formSession(relay.app);
  await browser.get('/sign-in');
  const response = await browser.post('/sign-in', { email, password });
  assert.equal(response.statusCode, 303, `${email} signs in`);
  return browser;
}

let sequence = 0;

/** Raises a referral through the API as the test ePCR; returns its status document. */
export async function raiseReferral(relay: TestRelay, overrides: Partial<ReferralBody> = {}) {
  sequence += 1;
  const response = await relay.app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${relay.epcrKey}` },
    payload: exampleReferral({
      source: { system: 'test-epcr', reference: `ADMIN-${sequence}` },
      ...overrides,
    }),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as {
    id: string;
    reference: string;
    deliveries: { id: string; team: string; channel: string; address: string }[];
  };
}

/** The error message the NHS macros put beside a field (`<id>-error`), as plain text. */
export function fieldError(html: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}-error"[^>]*>\\s*<span[^>]*>[^<]*</span>([^<]*)</span>`).exec(html);
  return match?.[1]?.replace(/\s+/g, ' ').trim();
}

export async function countRows(
  relay: TestRelay,
  table: 'users' | 'directory_versions' | 'api_keys' | 'audit_log',
) {
  const row = await relay.ctx.db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Posts a form with repeated fields (checkboxes), which formSession's plain object cannot carry,
 * using the browser's cookies and the CSRF token from a page it just fetched.
 */
export async function postPairs(
  relay: TestRelay,
  browser: Browser,
  page: string,
  url: string,
  pairs: [string, string][],
) {
  const html = (await browser.get(page)).body;
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookie = ['relay_session', '_csrf'].map((name) => `${name}=${browser.cookie(name) ?? ''}`).join('; ');
  return relay.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams([['_csrf', token], ...pairs]).toString(),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
  });
}
