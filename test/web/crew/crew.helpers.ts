/** Shared by the crew page tests: signed-in browsers, a complete form, and the check page's hidden fields. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createUser, type Role, type User } from '../../../src/access/user.service.ts';
import type { TestRelay } from '../../helpers/relay.ts';

export const PASSWORD = 'correct horse battery staple';

/**
 * Like test/helpers/web.ts's formSession, but posts repeated names (ticked checkboxes, the check
 * page's hidden fields) as a browser does.
 */
export function browser(app: FastifyInstance) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (response: LightMyRequestResponse) => {
    for (const c of response.cookies) {
      if (c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0)) cookies.delete(c.name);
      else cookies.set(c.name, c.value);
    }
    csrf = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1] ?? csrf;
    return response;
  };
  return {
    async get(url: string) {
      return remember(await app.inject({ method: 'GET', url, headers: { cookie: header() } }));
    },
    /** `accept: 'application/json'` posts as the form's script does. */
    async post(
      url: string,
      form: Record<string, string> | [string, string][],
      extra: { accept?: string } = {},
    ) {
      const pairs = Array.isArray(form) ? form : Object.entries(form);
      const body = new URLSearchParams([['_csrf', csrf], ...pairs.filter(([name]) => name !== '_csrf')]);
      return remember(
        await app.inject({
          method: 'POST',
          url,
          payload: body.toString(),
          headers: { cookie: header(), 'content-type': 'application/x-www-form-urlencoded', ...extra },
        }),
      );
    },
  };
}

export type Browser = ReturnType<typeof browser>;

export async function signedIn(relay: TestRelay, email: string, roles: Role[] = ['crew']) {
  const teams = roles.includes('recipient') ? ['birmingham-adults'] : [];
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { email, name: email.split('@')[0], roles, teams, password: PASSWORD },
    'test',
    () => true,
  );
  const b = browser(relay.app);
  await b.get('/sign-in');
  const response = await b.post('/sign-in', { email, password: PASSWORD });
  if (response.statusCode !== 303) throw new Error(`sign-in failed: ${response.statusCode}`);
  return { browser: b, user: user as User };
}

/** A complete referral as a crew member would type it: an adult in Birmingham, 25 Nov 2026 at 10:52. */
export function completeForm(overrides: Record<string, string> = {}): [string, string][] {
  const fields: Record<string, string> = {
    incidentNumber: 'INC-20261125-0457',
    'incidentDate[day]': '25',
    'incidentDate[month]': '11',
    'incidentDate[year]': '2026',
    incidentTime: '10:52',
    incidentCallSign: 'BM-421',
    incidentPostcode: 'b15 2tt',
    incidentLocation: 'Ground-floor flat',
    incidentConveyed: 'no',
    referrerName: 'Priya Kaur',
    referrerRole: 'Paramedic',
    referrerStaffId: 'WM-30417',
    referrerPhone: '01632 960123',
    referrerEmail: 'priya.kaur@example.org',
    givenName: 'Edna',
    familyName: 'Whitfield',
    'dateOfBirth[day]': '12',
    'dateOfBirth[month]': '4',
    'dateOfBirth[year]': '1939',
    nhsNumber: '943 476 5919',
    addressLine1: 'Flat 2, 14 Elmdon Road',
    addressTown: 'Birmingham',
    addressPostcode: 'B15 2TT',
    referralType: 'safeguarding',
    urgency: 'urgent',
    concern: 'Found on the floor, cold, no food in the flat.\nSays her nephew collects her pension.',
    consentDiscussed: 'yes',
    consentGiven: 'yes',
    consentCapacity: 'has-capacity',
    ...overrides,
  };
  return [
    ...Object.entries(fields),
    ['categoriesAdult', 'neglect'],
    ['categoriesAdult', 'financial'],
    ['vulnerabilities', 'frailty'],
  ];
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The check page's hidden fields, decoded as a browser would post them back. */
export function hiddenFields(html: string): [string, string][] {
  return [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
    m[1]!.replace(/&[a-z#0-9]+;/g, (e) => ENTITIES[e] ?? e),
    m[2]!.replace(/&[a-z#0-9]+;/g, (e) => ENTITIES[e] ?? e),
  ]);
}

export async function referralCount(relay: TestRelay): Promise<number> {
  const row = await relay.ctx.db.kysely
    .selectFrom('referrals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
