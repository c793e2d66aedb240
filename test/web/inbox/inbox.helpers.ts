/** Shared by the inbox tests: recipients for two authorities, signed-in browsers, and referrals for each. */
import assert from 'node:assert/strict';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

let counter = 0;

/** The recipients the inbox tests act as, signed in: Bea for Birmingham adults, Cal for Coventry adults. */
export async function signInTeams(relay: TestRelay) {
  const bham = await signedIn(relay, {
    email: 'bea@birmingham.example.org',
    name: 'Bea Bradley',
    roles: ['recipient'],
    teams: ['birmingham-adults'],
  });
  const cov = await signedIn(relay, {
    email: 'cal@coventry.example.org',
    name: 'Cal Cooper',
    roles: ['recipient'],
    teams: ['coventry-adults'],
  });
  return { birmingham: bham.browser, bhamUserId: bham.user.id, coventry: cov.browser };
}

/** A form refused with its error beside the field: 422, the error summary linking to it, the message under it. */
export function assertRefusedBeside(response: { statusCode: number; body: string }, field: string): void {
  assert.equal(response.statusCode, 422);
  assert.match(response.body, /nhsuk-error-summary/);
  assert.match(response.body, new RegExp(`href="#${field}"`));
  assert.match(response.body, new RegExp(`id="${field}-error"`));
  assert.match(response.body, /<title>Error: /);
}

/** Raises a referral as the ePCR would: an older adult at home in Birmingham or Coventry. */
export async function raiseIn(
  relay: TestRelay,
  place: 'birmingham' | 'coventry',
  overrides: Parameters<typeof exampleReferral>[0] = {},
): Promise<{ id: string; reference: string }> {
  counter += 1;
  const base = exampleReferral();
  const postcode = place === 'birmingham' ? 'B15 2TT' : 'CV1 2AB';
  const town = place === 'birmingham' ? 'Birmingham' : 'Coventry';
  return raise(relay, {
    source: { system: 'test-epcr', reference: `INBOX-${process.pid}-${counter}` },
    incident: { ...base.incident, location: { postcode } },
    subject: {
      ...base.subject,
      givenName: place === 'birmingham' ? 'Edna' : 'Cyril',
      familyName: place === 'birmingham' ? 'Whitfield' : 'Coventon',
      address: { line1: '14 Elm Road', town, postcode },
    },
    ...overrides,
  });
}

/** Whether a page of the inbox (one section) lists the reference. */
export async function section(
  browser: Browser,
  view: 'new' | 'due' | 'done',
  team?: string,
): Promise<string> {
  const query = new URLSearchParams({ view, ...(team ? { team } : {}) });
  const response = await browser.get(`/inbox?${query.toString()}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.body;
}

export function routeOf(relay: TestRelay, referralId: string, teamId: string) {
  return relay.ctx.db.kysely
    .selectFrom('routes')
    .selectAll()
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .executeTakeFirst();
}

export function deliveriesOf(relay: TestRelay, referralId: string, teamId: string) {
  return relay.ctx.db.kysely
    .selectFrom('deliveries')
    .selectAll()
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .execute();
}
