/** Shared by the inbox tests: recipients for two authorities, signed-in browsers, and referrals for each. */
import assert from 'node:assert/strict';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { createUser, type Role, type User } from '../../../src/access/user.service.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { formSession } from '../../helpers/web.ts';

const PASSWORD = 'correct horse battery staple';

export type Browser = ReturnType<typeof formSession>;

/** Sign-in is rate limited per address, so each test file signs each person in once and reuses the browser. */
export async function signedIn(
  relay: TestRelay,
  person: { email: string; name: string; roles: Role[]; teams?: string[] },
): Promise<{ browser: Browser; user: User }> {
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { ...person, password: PASSWORD },
    'test',
    () => true,
  );
  const browser = formSession(relay.app);
  await browser.get('/sign-in');
  const response = await browser.post('/sign-in', { email: person.email, password: PASSWORD });
  assert.equal(response.statusCode, 303, 'signed in');
  return { browser, user };
}

let counter = 0;

/** Raises a referral through the API as the ePCR would: an older adult at home in Birmingham or Coventry. */
export async function raise(
  relay: TestRelay,
  place: 'birmingham' | 'coventry',
  overrides: Parameters<typeof exampleReferral>[0] = {},
): Promise<{ id: string; reference: string }> {
  counter += 1;
  const base = exampleReferral();
  const postcode = place === 'birmingham' ? 'B15 2TT' : 'CV1 2AB';
  const town = place === 'birmingham' ? 'Birmingham' : 'Coventry';
  const response = await relay.app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${relay.epcrKey}` },
    payload: exampleReferral({
      source: { system: 'test-epcr', reference: `INBOX-${process.pid}-${counter}` },
      incident: { ...base.incident, location: { postcode } },
      subject: {
        ...base.subject,
        givenName: place === 'birmingham' ? 'Edna' : 'Cyril',
        familyName: place === 'birmingham' ? 'Whitfield' : 'Coventon',
        address: { line1: '14 Elm Road', town, postcode },
      },
      ...overrides,
    }),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as { id: string; reference: string };
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
