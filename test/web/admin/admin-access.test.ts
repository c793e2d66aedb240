import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { DEMO_DIRECTORY_PATH } from '../../../src/directory/directory.service.ts';
import type { Role } from '../../../src/access/user.service.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { formSession, signIn } from '../../helpers/web.ts';
import { addUser, countRows } from './admin.helpers.ts';
import { raise } from '../../helpers/referrals.ts';

const PAGES = [
  '/admin/users',
  '/admin/users/new',
  '/admin/directory',
  '/admin/directory/teams/birmingham-adults/edit',
  '/admin/directory/coverage',
  '/admin/directory/import',
  '/admin/api-keys',
  '/admin/api-keys/new',
];

const FORMS: [string, Record<string, string>][] = [
  ['/admin/users', { email: 'intruder@example.org', roles: 'admin' }],
  ['/admin/api-keys', { name: 'Intruder', scope: 'referrals:write', system: 'intruder-epcr' }],
  ['/admin/directory/coverage', { prefix: 'B15 2', authority: 'solihull' }],
  ['/admin/directory/coverage/remove', { removePrefix: 'B15' }],
  ['/admin/directory/teams/birmingham-adults/edit', { 'addresses-0-address': 'intruder@example.org' }],
  ['/admin/directory/import/confirm', { json: '{}', basedOn: '1' }],
];

/** What the example referral says about the person at risk: none of it may reach an admin page. */
const PERSONAL = [
  'Edna',
  'Whitfield',
  'Elmdon',
  '943 476 5919',
  '9434765919',
  '1939-04-12',
  '12 April 1939',
  'nephew',
];

describeEachDialect('admin pages: admins only, and no referral content', (dialect) => {
  let relay: TestRelay;

  before(async () => {
    relay = await createTestRelay(dialect);
    await addUser(relay, 'admin@example.org', ['admin']);
    for (const role of ['crew', 'recipient', 'safeguarding', 'auditor'] as const) {
      await addUser(relay, `${role}@example.org`, [role], role === 'recipient' ? ['birmingham-adults'] : []);
    }
  });
  after(async () => relay.close());

  it('sends a signed-out visitor to sign in, coming back afterwards', async () => {
    const browser = formSession(relay.app);
    for (const url of PAGES) {
      const response = await browser.get(url);
      assert.equal(response.statusCode, 303, url);
      assert.equal(response.headers.location, `/sign-in?next=${encodeURIComponent(url)}`);
    }
  });

  for (const role of ['crew', 'recipient', 'safeguarding', 'auditor'] satisfies Role[]) {
    it(`answers 403 to ${role}, for every page and every form, and changes nothing`, async () => {
      const browser = await signIn(relay.app, `${role}@example.org`);
      for (const url of PAGES) {
        const response = await browser.get(url);
        assert.equal(response.statusCode, 403, url);
        assert.match(response.body, /You cannot see this page/);
      }
      const counts = async () =>
        Promise.all((['users', 'api_keys', 'directory_versions'] as const).map((t) => countRows(relay, t)));
      const before = await counts();
      for (const [url, form] of FORMS) {
        await browser.get('/sign-in');
        assert.equal((await browser.post(url, form)).statusCode, 403, url);
      }
      assert.deepEqual(await counts(), before);
    });
  }

  it('shows an admin no referral content on any admin page, even with referrals in Relay', async () => {
    const raised = await raise(relay);
    const admin = await signIn(relay.app, 'admin@example.org');
    const seen: [string, string][] = [];
    for (const url of PAGES) {
      const response = await admin.get(url);
      assert.equal(response.statusCode, 200, url);
      seen.push([url, response.body]);
    }
    await admin.get('/admin/directory/import');
    const demo = JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as { name: string };
    demo.name = 'Preview';
    seen.push([
      'import preview',
      (await admin.post('/admin/directory/import', { json: JSON.stringify(demo) })).body,
    ]);
    seen.push([
      'user created',
      (await admin.post('/admin/users', { email: 'someone@example.org', roles: 'crew' })).body,
    ]);
    await admin.get('/admin/api-keys/new');
    seen.push([
      'key created',
      (await admin.post('/admin/api-keys', { name: 'k', scope: 'referrals:write', system: 'k-epcr' })).body,
    ]);
    for (const [where, body] of seen) {
      for (const personal of [...PERSONAL, raised.reference]) {
        assert.equal(body.includes(personal), false, `${where} shows ${personal}`);
      }
    }
  });
});
