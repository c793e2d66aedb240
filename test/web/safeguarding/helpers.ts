import assert from 'node:assert/strict';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { createUser, type Role } from '../../../src/access/user.service.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { formSession } from '../../helpers/web.ts';

const PASSWORD = 'correct horse battery staple';
let people = 0;
let referrals = 0;

/** A browser signed in as a new person with these roles (a recipient belongs to birmingham-adults). */
export async function signedIn(relay: TestRelay, roles: Role[], name = 'Sam Safeguarding') {
  people += 1;
  const email = `person-${process.pid}-${people}@example.org`;
  const teams = roles.includes('recipient') ? ['birmingham-adults'] : [];
  await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { email, name, roles, teams, password: PASSWORD },
    'test',
    () => true,
  );
  const browser = formSession(relay.app);
  await browser.get('/sign-in');
  const response = await browser.post('/sign-in', { email, password: PASSWORD });
  assert.equal(response.statusCode, 303, response.body);
  return browser;
}

/** Raises a referral through the API as the test ePCR; by default a Birmingham adult referral. */
export async function raise(relay: TestRelay, overrides: Parameters<typeof exampleReferral>[0] = {}) {
  referrals += 1;
  const response = await relay.app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${relay.epcrKey}` },
    payload: exampleReferral({
      source: { system: 'test-epcr', reference: `WEB-${process.pid}-${referrals}` },
      ...overrides,
    }),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as { id: string; reference: string };
}

/** A referral whose postcodes no authority covers, so it lands in the triage queue. */
export function outsideCoverage(): Parameters<typeof exampleReferral>[0] {
  const base = exampleReferral();
  return {
    incident: { ...base.incident, location: { postcode: 'SW1A 2AA' } },
    subject: {
      ...base.subject,
      address: { line1: '10 Downing Street', town: 'London', postcode: 'SW1A 2AA' },
    },
  };
}

/** The body of the dashboard table with this caption, or '' if there is none. */
export function tableIn(html: string, caption: string): string {
  return html.split(`>${caption}</caption>`)[1]?.split('</table>')[0] ?? '';
}

/** The number in a dashboard counts table for one row, e.g. ('Open deliveries by state', 'Failed'). */
export function countIn(html: string, caption: string, row: string): number {
  const table = tableIn(html, caption);
  const cells = new RegExp(
    `<th scope="row"[^>]*>\\s*${row}\\b[\\s\\S]*?</th>\\s*<td[^>]*>\\s*(?:<a[^>]*>)?(\\d+)`,
  );
  const found = cells.exec(table)?.[1];
  assert.ok(found !== undefined, `no row ${row} under ${caption}`);
  return Number(found);
}
