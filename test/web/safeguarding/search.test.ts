import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { routeByHand } from '../../../src/referrals/triage.service.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { outsideCoverage } from './helpers.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

describeEachDialect('safeguarding search and referral pages', (dialect) => {
  let relay: TestRelay;
  let browser: Browser;
  let birmingham: { id: string; reference: string };
  let handRouted: { id: string; reference: string };
  const db = () => relay.ctx.db.kysely;
  const references = (html: string) => [...html.matchAll(/>(SR-\d{4}-\d{6})<\/a>/g)].map((m) => m[1]);

  before(async () => {
    relay = await createTestRelay(dialect);
    birmingham = await raise(relay);
    handRouted = await raise(relay, outsideCoverage());
    const item = await db()
      .selectFrom('triage_items')
      .select('id')
      .where('referral_id', '=', handRouted.id)
      .executeTakeFirstOrThrow();
    const sam = await signedIn(relay, { roles: ['safeguarding'], name: 'Sam Safeguarding' });
    browser = sam.browser;
    await routeByHand(relay.ctx, item.id, 'coventry-adults', {
      name: 'Sam Safeguarding',
      actor: `user:${sam.user.id}`,
    });
  });
  after(async () => relay.close());

  it('finds a referral by its whole reference, in any case, and by part of it', async () => {
    const exact = await browser.get(`/safeguarding/search?q=${handRouted.reference.toLowerCase()}`);
    assert.equal(exact.statusCode, 200);
    assert.deepEqual(references(exact.body), [handRouted.reference]);
    assert.match(exact.body, new RegExp(`href="/safeguarding/referrals/${handRouted.id}"`));
    assert.match(exact.body, /Coventry City Council/);
    const part = await browser.get('/safeguarding/search?q=2026-0000');
    assert.deepEqual(references(part.body), [handRouted.reference, birmingham.reference], 'newest first');
  });

  it('filters by authority, status and received date (London days)', async () => {
    const coventry = await browser.get('/safeguarding/search?authority=coventry');
    assert.deepEqual(references(coventry.body), [handRouted.reference]);
    const routed = await browser.get('/safeguarding/search?status=routed');
    assert.deepEqual(references(routed.body), [handRouted.reference, birmingham.reference]);
    const none = await browser.get('/safeguarding/search?status=acknowledged');
    assert.match(none.body, /No referrals match/);
    const today = await browser.get('/safeguarding/search?from=2026-11-25&to=2026-11-25');
    assert.equal(references(today.body).length, 2);
    const before = await browser.get('/safeguarding/search?to=2026-11-24');
    assert.equal(references(before.body).length, 0);
  });

  it('names every field it cannot use', async () => {
    const response = await browser.get(
      `/safeguarding/search?q=${'A'.repeat(101)}&from=2026-02-30&authority=atlantis&status=lost`,
    );
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /nhsuk-error-summary/);
    for (const id of ['q', 'from', 'authority', 'status'])
      assert.match(response.body, new RegExp(`href="#${id}"`));
    assert.match(response.body, /Enter a real date for &quot;Received from&quot;/);
    assert.match(response.body, /Search for 100 characters or fewer/);
  });

  it('shows the whole referral, with deliveries, escalations and timeline, and audits the view', async () => {
    const response = await browser.get(`/safeguarding/referrals/${handRouted.reference}`);
    assert.equal(response.statusCode, 200);
    const body = response.body;
    assert.match(body, /Edna Whitfield/, 'the person at risk');
    assert.match(body, /Coventry Adult Social Care Front Door/);
    assert.match(body, /Email: adults\.coventry@example\.org/);
    assert.match(body, /Queued/);
    assert.match(body, /No escalations\./);
    assert.match(body, /Timeline/);
    // The timeline in words: who by name and role, what as a sentence; no ids, codes or JSON.
    const timeline = body.slice(body.indexOf('id="timeline"'));
    assert.match(timeline, /Put in the triage queue: no authority covers the postcode/);
    assert.match(timeline, /Routed by hand to Coventry Adult Social Care Front Door/);
    assert.match(timeline, /By Sam Safeguarding \(safeguarding team\)/);
    assert.match(timeline, /\(connected system\)/);
    assert.doesNotMatch(timeline, /user:|apikey:|\{&quot;|&quot;:/);
    const views = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'referral.viewed')
      .where('entity_id', '=', handRouted.id)
      .execute();
    assert.equal(views.length, 1);
    assert.match(views[0]!.actor, /^user:/);
    assert.match(views[0]!.detail, /"purpose":"safeguarding"/);
  });

  it('answers 404 for a referral that does not exist', async () => {
    const response = await browser.get('/safeguarding/referrals/SR-2026-999999');
    assert.equal(response.statusCode, 404);
    assert.match(response.headers['content-type'] as string, /text\/html/);
  });
});
