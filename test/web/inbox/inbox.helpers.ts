/** Shared by the inbox tests: recipients for two authorities, signed-in browsers, and referrals for each. */
import assert from 'node:assert/strict';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

let counter = 0;

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
