import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { intakeReferral } from '../../../src/referrals/referral.service.ts';
import { MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { type Browser, browser as crewBrowser } from './crew.helpers.ts';
import { signedIn } from '../../helpers/web.ts';

function html(response: { body: string }): string {
  return response.body.replace(/\s+/g, ' ');
}

/** Raises a referral as that crew member, the way the web pages do. */
async function raise(relay: TestRelay, userId: string, sourceReference: string) {
  const body = exampleReferral({ source: { system: 'relay-web', reference: sourceReference } });
  const { id } = await intakeReferral(relay.ctx, body, { actor: `user:${userId}`, userId });
  relay.clock.advance(MINUTE);
  return relay.ctx.db.kysely
    .selectFrom('referrals')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function viewsOf(relay: TestRelay, referralId: string) {
  return relay.ctx.db.kysely
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', 'referral.viewed')
    .where('entity_id', '=', referralId)
    .execute();
}

describeEachDialect("a crew member's own referrals", (dialect) => {
  let relay: TestRelay;
  let mine: Browser;
  let myId: string;
  let theirs: Awaited<ReturnType<typeof raise>>;
  const myReferrals: Awaited<ReturnType<typeof raise>>[] = [];
  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T10:30:00Z' });
    const me = await signedIn(
      relay,
      { email: 'priya.kaur@example.org', roles: ['crew'] },
      crewBrowser(relay.app),
    );
    const other = await signedIn(
      relay,
      { email: 'sam.jones@example.org', roles: ['crew'] },
      crewBrowser(relay.app),
    );
    mine = me.browser;
    myId = me.user.id;
    theirs = await raise(relay, other.user.id, 'theirs-1');
    for (let i = 1; i <= 26; i += 1) myReferrals.push(await raise(relay, myId, `mine-${i}`));
  });
  after(async () => relay.close());

  it('sends a signed-out visitor to sign in, and refuses a recipient', async () => {
    for (const url of ['/crew/referrals', `/crew/referrals/${myReferrals[0]!.id}`]) {
      const anonymous = await relay.app.inject({ method: 'GET', url });
      assert.equal(anonymous.statusCode, 303);
      assert.match(anonymous.headers.location as string, /^\/sign-in\?next=/);
    }
    const { browser } = await signedIn(
      relay,
      { email: 'duty@example.org', roles: ['recipient'] },
      crewBrowser(relay.app),
    );
    assert.equal((await browser.get(`/crew/referrals/${myReferrals[0]!.id}`)).statusCode, 403);
  });

  it('lists mine, newest first, 25 a page, and never another crew member’s', async () => {
    const first = html(await mine.get('/crew/referrals'));
    const newest = myReferrals.at(-1)!;
    const shown = [...first.matchAll(/href="\/crew\/referrals\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    assert.equal(shown.length, 25);
    assert.equal(shown[0], newest.id);
    assert.ok(!first.includes(theirs.reference), 'another crew member’s referral is not listed');
    assert.match(first, /Birmingham Adult Social Care Front Door/);
    assert.match(first, /nhsuk-tag/);
    assert.match(first, /Urgent/);
    assert.match(first, /25 Nov 2026, 10:5\d/, 'received time in London');
    assert.match(first, /href="\/crew\/referrals\?page=2"/);

    const second = html(await mine.get('/crew/referrals?page=2'));
    const rest = [...second.matchAll(/href="\/crew\/referrals\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    assert.deepEqual(rest, [myReferrals[0]!.id]);
    assert.ok(!second.includes(theirs.reference));
  });

  it("shows each team's outcome and the live status", async () => {
    const referral = myReferrals.at(-1)!;
    await relay.ctx.db.kysely
      .updateTable('routes')
      .set({ outcome: 's42-enquiry', outcome_at: relay.clock.now().toISOString() })
      .where('referral_id', '=', referral.id)
      .execute();
    await relay.ctx.db.kysely
      .updateTable('referrals')
      .set({ status: 'acknowledged' })
      .where('id', '=', referral.id)
      .execute();
    const route = await relay.ctx.db.kysely
      .selectFrom('routes')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    await relay.ctx.db.kysely
      .insertInto('acknowledgements')
      .values({
        id: 'ack-1',
        referral_id: referral.id,
        route_id: route.id,
        team_id: route.team_id,
        delivery_id: null,
        at: '2026-11-25T11:20:00.000Z',
        method: 'link',
        by_name: 'Alex Duty',
        by_user: null,
        by_key: null,
      })
      .execute();
    const list = html(await mine.get('/crew/referrals'));
    assert.match(list, /Birmingham Adult Social Care Front Door: Section 42 enquiry/);
    assert.match(list, /nhsuk-tag--green[^>]*> Acknowledged/);
    const detail = html(await mine.get(`/crew/referrals/${referral.id}`));
    assert.match(
      detail,
      /Birmingham Adult Social Care Front Door: acknowledged by Alex Duty on Wed,? 25 Nov 2026, 11:20/,
    );
    assert.match(detail, /Birmingham Adult Social Care Front Door: Section 42 enquiry/);
  });

  it('opens one of mine with its progress and content, and audits the view', async () => {
    const referral = myReferrals[3]!;
    const response = await mine.get(`/crew/referrals/${referral.id}`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    const page = html(response);
    assert.match(page, new RegExp(referral.reference));
    assert.match(page, /Where it has gone/);
    assert.match(page, /Edna Whitfield/);
    assert.match(page, /No team has acknowledged it yet/);
    // Codes in words: status, urgency, categories, vulnerabilities, capacity.
    assert.match(page, /Sent, not yet acknowledged|Routed, being sent/);
    assert.match(page, /Neglect, Financial or material abuse/);
    assert.match(page, /Frailty, Dementia/);
    assert.match(page, /Has capacity to consent/);
    assert.doesNotMatch(page, /\bfinancial\b|has-capacity|self-neglect/);
    const views = await viewsOf(relay, referral.id);
    assert.equal(views.length, 1);
    assert.equal(views[0]!.actor, `user:${myId}`);
    assert.equal((JSON.parse(views[0]!.detail) as { purpose: string }).purpose, 'crew-view');
  });

  it('answers 404, and audits nothing, for another crew member’s referral or an unknown id', async () => {
    for (const url of [
      `/crew/referrals/${theirs.id}`,
      `/crew/referrals/${theirs.reference}`,
      `/crew/referrals/${theirs.id}/confirmation`,
      '/crew/referrals/00000000-0000-4000-8000-000000000000',
    ]) {
      const response = await mine.get(url);
      assert.equal(response.statusCode, 404, url);
      assert.match(response.headers['content-type'] as string, /text\/html/);
      assert.ok(!response.body.includes('Edna'), 'no content leaks');
    }
    assert.equal((await viewsOf(relay, theirs.id)).length, 0);
  });

  it('says so when no team could be found and the referral waits in triage', async () => {
    const body = exampleReferral({ source: { system: 'relay-web', reference: 'triage-1' } });
    body.subject.address = { line1: '1 Horse Guards Road', town: 'London', postcode: 'SW1A 2HQ' };
    body.incident.location.postcode = 'SW1A 2HQ';
    const { id } = await intakeReferral(relay.ctx, body, { actor: `user:${myId}`, userId: myId });
    const page = html(await mine.get(`/crew/referrals/${id}/confirmation`));
    assert.match(page, /in the safeguarding team&#39;s triage queue|in the safeguarding team's triage queue/);
    const list = html(await mine.get('/crew/referrals'));
    assert.match(list, /In triage: the safeguarding team is routing it/);
  });

  it('confirms one of mine with its reference and where it went', async () => {
    const referral = myReferrals[0]!;
    const page = html(await mine.get(`/crew/referrals/${referral.id}/confirmation`));
    assert.match(page, new RegExp(`<strong>${referral.reference}</strong>`));
    assert.match(page, /Birmingham Adult Social Care Front Door \(Birmingham/);
  });
});
