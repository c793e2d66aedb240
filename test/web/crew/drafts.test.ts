import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { retentionJob } from '../../../src/assurance/jobs/retention.job.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { browser, completeForm, PASSWORD, referralCount, signedIn, type Browser } from './crew.helpers.ts';

const REFERENCE = '6f1c2b1e-2f4a-4d7e-9a51-0c3d2e1f4a5b';

async function draftRows(relay: TestRelay) {
  return relay.ctx.db.kysely.selectFrom('referral_drafts').selectAll().execute();
}

describeEachDialect('crew drafts on the server', (dialect) => {
  let relay: TestRelay;
  let crew: Browser;
  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
    ({ browser: crew } = await signedIn(relay, 'priya.kaur@example.org'));
    await crew.get('/crew/referrals/new');
  });
  after(async () => relay.close());

  it('saves what is typed, sealed, and lists it under Drafts', async () => {
    const saved = await crew.post(`/crew/referrals/drafts/${REFERENCE}`, [
      ['sourceReference', REFERENCE],
      ['givenName', 'Edna'],
      ['familyName', 'Whitfield'],
    ]);
    assert.equal(saved.statusCode, 200);
    assert.equal(saved.json().draft, REFERENCE);
    const [row] = await draftRows(relay);
    assert.equal(row?.id, REFERENCE);
    assert.match(row?.answers ?? '', /^enc1:/, 'sealed like any personal data');
    assert.doesNotMatch(row?.answers ?? '', /Whitfield/);
    const list = await crew.get('/crew/referrals');
    assert.match(list.body, /Drafts/);
    assert.match(list.body, /Draft about Edna Whitfield/);
    const form = await crew.get(`/crew/referrals/drafts/${REFERENCE}`);
    assert.match(form.body, /id="familyName"[^>]*value="Whitfield"/);
  });

  it("never shows or overwrites another crew member's draft", async () => {
    const other = await signedIn(relay, 'sam.jones@example.org');
    await other.browser.get('/crew/referrals/new');
    const form = await other.browser.get(`/crew/referrals/drafts/${REFERENCE}`);
    assert.doesNotMatch(form.body, /Whitfield/);
    const saved = await other.browser.post(`/crew/referrals/drafts/${REFERENCE}`, [
      ['sourceReference', REFERENCE],
      ['givenName', 'Mallory'],
    ]);
    assert.notEqual(saved.json().draft, REFERENCE, 'a fresh reference of their own');
    const mine = await crew.get(`/crew/referrals/drafts/${REFERENCE}`);
    assert.match(mine.body, /value="Edna"/);
  });

  it('holds a form posted after the session ended, and gives it back after signing in', async () => {
    const late = await relay.app.inject({
      method: 'POST',
      url: '/crew/referrals/check',
      payload: new URLSearchParams(completeForm({ givenName: 'Late' })).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    // No CSRF token without a page: refused, and nothing held.
    assert.equal(late.statusCode, 403);
    // With the token of the page it came from, but a session that has ended (30 minutes idle).
    relay.clock.advance(31 * MINUTE);
    const expired = await crew.post('/crew/referrals/check', completeForm({ givenName: 'Timed' }));
    assert.equal(expired.statusCode, 303);
    const location = String(expired.headers.location);
    assert.match(location, /^\/sign-in\?next=%2Fcrew%2Freferrals%2Fdrafts%2Fclaim%2F[\w-]+&reason=timeout$/);
    const signIn = await crew.get(location);
    assert.match(signIn.body, /kept as a draft, and has not been sent/);
    const next = decodeURIComponent(/next=([^&]+)/.exec(location)![1]!);
    const again = { browser: browser(relay.app) };
    await again.browser.get('/sign-in');
    await again.browser.post('/sign-in', { email: 'priya.kaur@example.org', password: PASSWORD });
    const claimed = await again.browser.get(next);
    assert.equal(claimed.statusCode, 303);
    const draft = await again.browser.get(String(claimed.headers.location));
    assert.match(draft.body, /value="Timed"/);
    // The token opens it once.
    assert.equal((await again.browser.get(next)).statusCode, 404);
    crew = again.browser;
  });

  it('sends by script with a 201, and a repeat answers 200 with the same referral', async () => {
    await crew.get('/crew/referrals/new');
    const before = await referralCount(relay);
    const form = completeForm({ 'incidentDate[day]': '25', incidentTime: '11:20' });
    const reference = '0b8e6a52-8f0e-4c55-b0e4-6d9b1a7c3e21';
    const send = () => crewJson(`/crew/referrals/submit`, [...form, ['sourceReference', reference]]);
    const first = await send();
    assert.equal(first.statusCode, 201, first.body);
    const second = await send();
    assert.equal(second.statusCode, 200);
    assert.equal(second.json().id, first.json().id);
    assert.equal(await referralCount(relay), before + 1);
  });

  it('deletes a draft unsaved for 72 hours, on the retention sweep', async () => {
    assert.ok((await draftRows(relay)).length > 0);
    relay.clock.advance(71 * HOUR);
    await retentionJob()(relay.ctx, relay.clock.now());
    assert.ok((await draftRows(relay)).length > 0, 'kept within 72 hours');
    relay.clock.advance(2 * HOUR);
    await retentionJob()(relay.ctx, relay.clock.now());
    assert.deepEqual(await draftRows(relay), []);
  });

  /** A post as the form's script makes it, asking for JSON. */
  async function crewJson(url: string, pairs: [string, string][]) {
    await crew.get('/crew/referrals/new');
    return crew.post(url, pairs, { accept: 'application/json' });
  }
});
