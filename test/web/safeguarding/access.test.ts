import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { formSession, signedIn } from '../../helpers/web.ts';
import { outsideCoverage } from './helpers.ts';
import { raise } from '../../helpers/referrals.ts';

describeEachDialect('safeguarding pages: who may see them', (dialect) => {
  let relay: TestRelay;
  let pages: string[];
  before(async () => {
    relay = await createTestRelay(dialect);
    const routed = await raise(relay);
    await raise(relay, outsideCoverage());
    const item = await relay.ctx.db.kysely.selectFrom('triage_items').select('id').executeTakeFirstOrThrow();
    pages = [
      '/safeguarding',
      '/safeguarding/escalations',
      '/safeguarding/escalations?view=resolved',
      '/safeguarding/triage',
      `/safeguarding/triage/${item.id}`,
      '/safeguarding/search',
      `/safeguarding/search?q=${routed.reference}`,
      `/safeguarding/referrals/${routed.id}`,
    ];
  });
  after(async () => relay.close());

  it('shows every page to the safeguarding team, in the NHS layout', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    for (const url of pages) {
      const response = await browser.get(url);
      assert.equal(response.statusCode, 200, `${url}: ${response.body.slice(0, 300)}`);
      assert.match(response.body, /class="nhsuk-header/);
      assert.match(response.body, /href="\/safeguarding\/escalations"/, 'the navigation');
    }
  });

  for (const role of ['crew', 'recipient', 'admin'] as const) {
    it(`refuses a ${role} with 403`, async () => {
      const browser = (await signedIn(relay, { roles: [role], name: `A ${role}` })).browser;
      for (const url of pages) {
        const response = await browser.get(url);
        assert.equal(response.statusCode, 403, url);
        assert.doesNotMatch(response.body, /SR-2026-/, 'no referral reference leaks onto the refusal');
      }
    });
  }

  it('sends a signed-out person to sign in, coming back afterwards', async () => {
    const browser = formSession(relay.app);
    for (const url of pages) {
      const response = await browser.get(url);
      assert.equal(response.statusCode, 303, url);
      assert.equal(response.headers.location, `/sign-in?next=${encodeURIComponent(url)}`);
    }
  });

  it('refuses a form posted without its CSRF token, and changes nothing', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const item = await relay.ctx.db.kysely.selectFrom('triage_items').selectAll().executeTakeFirstOrThrow();
    const response = await browser.post(
      `/safeguarding/triage/${item.id}`,
      { teamId: 'coventry-adults', confirm: 'yes' },
      { csrf: false },
    );
    assert.equal(response.statusCode, 403);
    const after = await relay.ctx.db.kysely
      .selectFrom('triage_items')
      .select('resolved_at')
      .where('id', '=', item.id)
      .executeTakeFirstOrThrow();
    assert.equal(after.resolved_at, null);
  });
});
