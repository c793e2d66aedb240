import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { portalUrl } from '../../src/delivery/delivery.sender.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { intakeReferral } from '../../src/referrals/referral.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { browser as crewBrowser } from './crew/crew.helpers.ts';
import { signedIn } from '../helpers/web.ts';
import type { Role } from '../../src/access/user.service.ts';

/** The path of the email's "Open in the portal" link, as a browser would request it. */
function linkPath(relay: TestRelay, id: string): string {
  return new URL(portalUrl(relay.ctx, id)).pathname;
}

describeEachDialect('the email\'s "Open in the portal" link', (dialect) => {
  let relay: TestRelay;
  let referralId: string;
  let crewEmail: string;
  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T10:30:00Z' });
    crewEmail = 'priya.kaur@example.org';
    const crew = await signedIn(relay, { email: crewEmail, roles: ['crew'] }, crewBrowser(relay.app));
    const body = exampleReferral({ source: { system: 'relay-web', reference: 'portal-link-1' } });
    ({ id: referralId } = await intakeReferral(relay.ctx, body, {
      actor: `user:${crew.user.id}`,
      userId: crew.user.id,
    }));
  });
  after(async () => relay.close());

  it('sends a signed-out reader to sign in, and back to the link afterwards', async () => {
    const anonymous = await relay.app.inject({ method: 'GET', url: linkPath(relay, referralId) });
    assert.equal(anonymous.statusCode, 303);
    assert.equal(
      anonymous.headers.location,
      `/sign-in?next=${encodeURIComponent(linkPath(relay, referralId))}`,
    );
  });

  it('leads each role to its own page for the referral, and that page opens', async () => {
    const cases: [string, Role[], string][] = [
      ['lead@example.org', ['safeguarding'], `/safeguarding/referrals/${referralId}`],
      ['duty@example.org', ['recipient'], `/inbox/referrals/${referralId}`],
    ];
    for (const [email, roles, page] of cases) {
      const { browser } = await signedIn(relay, { email: email, roles: roles }, crewBrowser(relay.app));
      const link = await browser.get(linkPath(relay, referralId));
      assert.equal(link.statusCode, 303, email);
      assert.equal(link.headers.location, page, email);
      assert.equal((await browser.get(page)).statusCode, 200, email);
    }
    // The crew member who raised it: their own referral's page.
    const { browser } = await signedIn(
      relay,
      { email: 'priya2@example.org', roles: ['crew'] },
      crewBrowser(relay.app),
    );
    assert.equal((await browser.get(linkPath(relay, referralId))).statusCode, 404, 'not theirs');
  });

  it('opens the crew member’s own referral, and is "not found" for an id nobody has', async () => {
    const crew = await signedIn(
      relay,
      { email: 'kaur.other@example.org', roles: ['crew'] },
      crewBrowser(relay.app),
    );
    const body = exampleReferral({ source: { system: 'relay-web', reference: 'portal-link-2' } });
    const { id } = await intakeReferral(relay.ctx, body, {
      actor: `user:${crew.user.id}`,
      userId: crew.user.id,
    });
    const link = await crew.browser.get(linkPath(relay, id));
    assert.equal(link.headers.location, `/crew/referrals/${id}`);
    assert.equal((await crew.browser.get(`/crew/referrals/${id}`)).statusCode, 200);
    const missing = await crew.browser.get('/referrals/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /There is no referral with that reference that you can see/);
  });

  it('refuses a role that never sees referral content', async () => {
    const { browser } = await signedIn(
      relay,
      { email: 'admin@example.org', roles: ['admin'] },
      crewBrowser(relay.app),
    );
    assert.equal((await browser.get(linkPath(relay, referralId))).statusCode, 403);
  });
});
