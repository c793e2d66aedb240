import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeclaredRoute } from '../../src/app.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { createUser, ROLES, type Role } from '../../src/access/user.service.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

/** Who may use each area of the web app. A page route outside every area fails the test. */
const AREAS: { prefix: RegExp; method?: 'GET'; roles: Role[] | 'signed-in' }[] = [
  { prefix: /^\/crew\//, roles: ['crew'] },
  { prefix: /^\/inbox/, roles: ['recipient'] },
  // Auditors read the incident reviews and their reports; changing them, and each case's notes, stay
  // the safeguarding team's.
  {
    prefix: /^\/safeguarding\/reviews(?:\/:id(?:\/export\.csv|\/report\.pdf)?)?$/,
    method: 'GET',
    roles: ['safeguarding', 'auditor'],
  },
  { prefix: /^\/safeguarding/, roles: ['safeguarding'] },
  { prefix: /^\/admin\//, roles: ['admin'] },
  { prefix: /^\/audit/, roles: ['auditor'] },
  { prefix: /^\/mailbox/, roles: 'signed-in' },
  { prefix: /^\/account\//, roles: 'signed-in' },
  // The email's portal link: it leads each role that sees referrals to that role's own page.
  { prefix: /^\/referrals\//, roles: ['crew', 'recipient', 'safeguarding'] },
];

/** Open by design: probes, sign-in, assets, the emailed acknowledge link, and the API (keys, tested apart). */
const PUBLIC = [
  /^\/$/,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/sign-(in|out)$/,
  // Signing in with an organisation (OIDC) and the public key set its client uses: open, like sign-in.
  /^\/sign-in\/oidc\//,
  /^\/oidc\/jwks\.json$/,
  // The code after a password: guarded by its own challenge cookie, not a session (none exists yet).
  /^\/sign-in\/second-factor$/,
  /^\/assets\//,
  /^\/ack\//,
  /^\/api\//,
];

const password = 'a password for every role';

const areaOf = (route: DeclaredRoute) =>
  AREAS.find((a) => a.prefix.test(route.url) && (!a.method || a.method === route.method));

describe('every page route, with every role and signed out', () => {
  let relay: TestRelay;
  let referralId: string;
  const browsers = new Map<Role, ReturnType<typeof formSession>>();

  before(async () => {
    relay = await createTestRelay('sqlite');
    for (const role of ROLES) {
      await createUser(
        relay.ctx.db.kysely,
        relay.clock,
        {
          email: `${role}@example.org`,
          name: `A ${role}`,
          roles: [role],
          teams: role === 'recipient' ? ['birmingham-adults'] : [],
          password,
        },
        'test',
        () => true,
      );
      const browser = formSession(relay.app);
      await browser.get('/sign-in');
      assert.equal(
        (await browser.post('/sign-in', { email: `${role}@example.org`, password })).statusCode,
        303,
      );
      browsers.set(role, browser);
    }
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({ source: { system: 'test-epcr', reference: 'ACCESS-1' } }),
    });
    referralId = raised.json().id as string;
  });
  after(async () => relay.close());

  const pageRoutes = (): DeclaredRoute[] =>
    relay.app.declaredRoutes.filter(
      (r) => (r.method === 'GET' || r.method === 'POST') && !PUBLIC.some((p) => p.test(r.url)),
    );
  const concrete = (url: string) => url.replace(/:[a-zA-Z]+/g, referralId);

  it('knows every page route', () => {
    const unknown = pageRoutes().filter((r) => !areaOf(r));
    assert.deepEqual(unknown, [], 'a page route belongs to no area: add it to AREAS with its roles');
    assert.ok(pageRoutes().length > 20);
  });

  it('sends the signed-out to sign-in and refuses their forms', async () => {
    for (const route of pageRoutes()) {
      const response = await relay.app.inject({
        method: route.method as 'GET' | 'POST',
        url: concrete(route.url),
        payload: route.method === 'POST' ? {} : undefined,
      });
      if (route.method === 'GET') {
        assert.equal(response.statusCode, 303, `${route.method} ${route.url}`);
        assert.match(String(response.headers.location), /^\/sign-in\?next=/);
      } else {
        assert.ok(
          [303, 403].includes(response.statusCode),
          `${route.method} ${route.url} answered ${response.statusCode}`,
        );
      }
    }
  });

  it('gives each role its own pages and 403 for the others', async () => {
    for (const route of pageRoutes()) {
      const area = areaOf(route);
      for (const role of ROLES) {
        const browser = browsers.get(role)!;
        const allowed = area?.roles === 'signed-in' || area?.roles.includes(role);
        await browser.get('/sign-in?next=/'); // refreshes the CSRF token the forms carry
        const response =
          route.method === 'GET'
            ? await browser.get(concrete(route.url))
            : await browser.post(concrete(route.url), {});
        const what = `${role} ${route.method} ${route.url} → ${response.statusCode}`;
        assert.ok(response.statusCode < 500, what);
        if (allowed) {
          assert.notEqual(response.statusCode, 403, what);
          assert.ok(
            !(response.statusCode === 303 && /sign-in/.test(String(response.headers.location))),
            what,
          );
        } else {
          assert.equal(response.statusCode, 403, what);
        }
      }
    }
  });
});
