import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { countSections } from '../../../src/web/inbox/inbox.queries.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../../helpers/relay.ts';
import { formSession, signedIn, type Browser } from '../../helpers/web.ts';
import { assertRefusedBeside, raiseIn, routeOf, section, signInTeams } from './inbox.helpers.ts';

describeEachDialect('team inbox', (dialect) => {
  let relay: TestRelay;
  let birmingham: Browser;
  let coventry: Browser;
  let crew: Browser;
  let admin: Browser;
  let bhamUserId: string;
  let bhamReferral: { id: string; reference: string };
  let covReferral: { id: string; reference: string };

  before(async () => {
    relay = await createTestRelay(dialect);
    ({ birmingham, bhamUserId, coventry } = await signInTeams(relay));
    crew = (await signedIn(relay, { email: 'pat@ambulance.example.org', name: 'Pat', roles: ['crew'] }))
      .browser;
    admin = (await signedIn(relay, { email: 'ada@relay.example.org', name: 'Ada', roles: ['admin'] }))
      .browser;
    bhamReferral = await raiseIn(relay, 'birmingham');
    covReferral = await raiseIn(relay, 'coventry');
  });
  after(async () => relay.close());

  it("lists the team's new referral, and never another team's", async () => {
    const page = await section(birmingham, 'new');
    assert.match(page, /New \(not acknowledged\) \(1\)/);
    assert.ok(page.includes(bhamReferral.reference));
    assert.ok(!page.includes(covReferral.reference));
    assert.match(page, /<caption class="nhsuk-table__caption">New \(not acknowledged\)/);
    assert.match(page, /<th scope="col"/);
    assert.match(page, /Urgent/);
    const theirs = await section(coventry, 'new');
    assert.ok(theirs.includes(covReferral.reference));
    assert.ok(!theirs.includes(bhamReferral.reference));
  });

  it("answers 404 to a guessed id of another team's referral, and opens nothing", async () => {
    const response = await birmingham.get(`/inbox/referrals/${covReferral.id}`);
    assert.equal(response.statusCode, 404);
    assert.ok(!response.body.includes('Coventon'));
    const byReference = await birmingham.get(`/inbox/referrals/${covReferral.reference}`);
    assert.equal(byReference.statusCode, 404);
    const views = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('seq')
      .where('action', '=', 'referral.viewed')
      .where('entity_id', '=', covReferral.id)
      .execute();
    assert.equal(views.length, 0);
    const ack = await birmingham.post(`/inbox/referrals/${covReferral.id}/acknowledge`, {});
    assert.equal(ack.statusCode, 404);
    assert.equal((await routeOf(relay, covReferral.id, 'coventry-adults'))?.acknowledged_at, null);
  });

  it('shows the referral in full and audits the view', async () => {
    const response = await birmingham.get(`/inbox/referrals/${bhamReferral.id}`);
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /Edna Whitfield/);
    assert.match(response.body, /12 April 1939/, 'the date of birth as people write it');
    assert.match(response.body, /Where it has gone/);
    assert.match(response.body, /action="\/inbox\/referrals\/[^"]+\/acknowledge"/);
    const body = response.body;
    assert.ok(
      body.indexOf('Person at risk') < body.indexOf('action="/inbox/referrals/'),
      'the referral comes before the forms that act on it',
    );
    // An adults team records Care Act enquiries, not child protection enquiries.
    assert.match(body, /Section 42 enquiry/);
    assert.doesNotMatch(body, /Child protection enquiry/);
    // Redirect: grouped by authority, the team's own area first.
    const groups = [...body.matchAll(/<optgroup label="([^"]+)">/g)].map((m) => m[1]);
    assert.equal(groups[0], 'Birmingham City Council (your area)');
    assert.ok(groups.length > 1 && groups.includes('Coventry City Council'), groups.join(', '));
    // The timeline in words.
    const timeline = body.slice(body.indexOf('id="timeline"'));
    assert.match(timeline, /Referral received/);
    assert.match(timeline, /Routed to Birmingham Adult Social Care Front Door/);
    assert.doesNotMatch(timeline, /apikey:|&quot;/);
    const views = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'referral.viewed')
      .where('entity_id', '=', bhamReferral.id)
      .execute();
    assert.equal(views.length, 1);
    assert.equal(views[0]!.actor, `user:${bhamUserId}`);
    assert.match(views[0]!.detail, /recipient-view/);
  });

  it('refuses an acknowledgement without its CSRF token and changes nothing', async () => {
    const response = await birmingham.post(
      `/inbox/referrals/${bhamReferral.id}/acknowledge`,
      {},
      { csrf: false },
    );
    assert.equal(response.statusCode, 403);
    assert.equal((await routeOf(relay, bhamReferral.id, 'birmingham-adults'))?.acknowledged_at, null);
  });

  it('acknowledges from the inbox: the referral moves to "Acknowledged, outcome due"', async () => {
    await birmingham.get(`/inbox/referrals/${bhamReferral.id}`);
    const response = await birmingham.post(`/inbox/referrals/${bhamReferral.id}/acknowledge`, {
      team: 'birmingham-adults',
    });
    assert.equal(response.statusCode, 303);
    const shown = await birmingham.get(response.headers.location as string);
    assert.match(shown.body, /You acknowledged this referral/);
    assert.match(shown.body, /by Bea Bradley \(inbox\)/);
    const acks = await relay.ctx.db.kysely
      .selectFrom('acknowledgements')
      .selectAll()
      .where('referral_id', '=', bhamReferral.id)
      .execute();
    assert.equal(acks.length, 1);
    assert.equal(acks[0]!.method, 'inbox');
    assert.equal(acks[0]!.by_name, 'Bea Bradley');
    assert.equal(acks[0]!.by_user, bhamUserId);
    assert.ok(!(await section(birmingham, 'new')).includes(bhamReferral.reference));
    assert.ok((await section(birmingham, 'due')).includes(bhamReferral.reference));
  });

  it('refuses an outcome without a note beside the field, and saves nothing', async () => {
    await birmingham.get(`/inbox/referrals/${bhamReferral.id}`);
    const before = await rowCounts(relay);
    const response = await birmingham.post(`/inbox/referrals/${bhamReferral.id}/outcome`, {
      team: 'birmingham-adults',
      outcome: 's42-enquiry',
      note: '  ',
    });
    assertRefusedBeside(response, 'note');
    assert.match(response.body, /Enter a note about the outcome/);
    assert.match(response.body, /value="s42-enquiry" checked/, 'the choice made is kept');
    const after = await rowCounts(relay);
    // Re-showing the page opens the referral again, and that view is audited; nothing else changes.
    assert.deepEqual({ ...after, audit_log: before.audit_log }, before);
    assert.equal((await routeOf(relay, bhamReferral.id, 'birmingham-adults'))?.outcome, null);
    const noChoice = await birmingham.post(`/inbox/referrals/${bhamReferral.id}/outcome`, {
      team: 'birmingham-adults',
      note: 'Something',
    });
    assert.equal(noChoice.statusCode, 422);
    assert.match(noChoice.body, /href="#outcome"/);
    assert.match(noChoice.body, /Select the outcome/);
  });

  it('records the outcome: the referral is done, and closed when it was the only route', async () => {
    await birmingham.get(`/inbox/referrals/${bhamReferral.id}`);
    const response = await birmingham.post(`/inbox/referrals/${bhamReferral.id}/outcome`, {
      team: 'birmingham-adults',
      outcome: 's42-enquiry',
      note: 'Enquiry opened; duty worker visiting today.',
    });
    assert.equal(response.statusCode, 303);
    const route = await routeOf(relay, bhamReferral.id, 'birmingham-adults');
    assert.equal(route?.outcome, 's42-enquiry');
    const note =
      route &&
      unsealField(relay.ctx.config.dataKeys, PERSONAL_FIELDS.outcomeNote, route.id, route.outcome_note);
    assert.equal(note, 'Enquiry opened; duty worker visiting today.');
    const referral = await relay.ctx.db.kysely
      .selectFrom('referrals')
      .select('status')
      .where('id', '=', bhamReferral.id)
      .executeTakeFirstOrThrow();
    assert.equal(referral.status, 'closed');
    assert.ok(!(await section(birmingham, 'due')).includes(bhamReferral.reference));
    const done = await section(birmingham, 'done');
    assert.ok(done.includes(bhamReferral.reference));
    assert.match(done, /Section 42 enquiry/);
    const page = await birmingham.get(`/inbox/referrals/${bhamReferral.id}`);
    assert.ok(!page.body.includes('action="/inbox/referrals/'), 'no actions left once done');
  });

  it('shows a missed deadline in words, not colour alone', async () => {
    // Received 61 minutes ago, so its one-hour deadline has passed. Rewinding for the intake alone
    // keeps the signed-in sessions fresh.
    const incident = { ...exampleReferral().incident, occurredAt: '2026-11-25T09:30:00Z' };
    relay.clock.advance(-61 * 60_000);
    const late = await raiseIn(relay, 'birmingham', { urgency: 'immediate', incident });
    relay.clock.advance(61 * 60_000);
    const page = await section(birmingham, 'new');
    const row = page.slice(page.indexOf(late.reference));
    assert.match(row.slice(0, row.indexOf('</tr>')), /Overdue/);
  });

  it('lets a member of several teams filter by team, and shows each team its own copy', async () => {
    const both = (
      await signedIn(relay, {
        email: 'kim@birmingham.example.org',
        name: 'Kim Khan',
        roles: ['recipient'],
        teams: ['birmingham-adults', 'birmingham-children'],
      })
    ).browser;
    const family = await raiseIn(relay, 'birmingham', { householdChildren: 2 });
    const all = await section(both, 'new');
    assert.match(all, /<select class="nhsuk-select" id="team" name="team">/);
    assert.equal(all.split(family.reference).length - 1, 2, 'one row per team');
    const children = await section(both, 'new', 'birmingham-children');
    assert.equal(children.split(family.reference).length - 1, 1);
    assert.ok(!children.includes(bhamReferral.reference), "the adults team's referral is filtered out");
    const page = await both.get(`/inbox/referrals/${family.id}?team=birmingham-children`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Safeguarding referral for Birmingham Children/);
    assert.match(page.body, /Children in household\s*<\/dt>\s*<dd class="nhsuk-summary-list__value">\s*2/);
    assert.match(page.body, /name="team" value="birmingham-children"/);
    assert.match(page.body, /Child protection enquiry/, "a children's team's outcomes");
    assert.doesNotMatch(page.body, /Section 42 enquiry/);
    const refused = await both.post(`/inbox/referrals/${family.id}/outcome`, {
      team: 'birmingham-children',
      outcome: 's42-enquiry',
      note: 'An adult outcome from a children’s team',
    });
    assert.equal(refused.statusCode, 422, 'an outcome the team cannot record is refused');
  });

  it('puts the most urgent first and pages through the rest', async () => {
    for (let i = 0; i < 20; i += 1) await raiseIn(relay, 'coventry', { urgency: 'routine' });
    const immediate = await raiseIn(relay, 'coventry', { urgency: 'immediate' });
    const first = await section(coventry, 'new');
    assert.match(first, /New \(not acknowledged\) \(22\)/);
    const rows = [...first.matchAll(/<th scope="row"[^>]*><a [^>]*>(SR-[0-9-]+)<\/a>/g)].map((m) => m[1]);
    assert.equal(rows.length, 20);
    assert.equal(rows[0], immediate.reference);
    assert.match(first, /href="\/inbox\?view=new&amp;page=2"/);
    const second = await coventry.get('/inbox?view=new&page=2');
    const more = [...second.body.matchAll(/<th scope="row"[^>]*><a [^>]*>(SR-[0-9-]+)<\/a>/g)];
    assert.equal(more.length, 2);
    assert.match(second.body, /Page 1 of 2/);
    assert.doesNotMatch(second.body, /Page 3/, 'no next page past the last');
  });

  it('lists acknowledged work most urgent first too, by the urgency each route keeps', async () => {
    const routine = await raiseIn(relay, 'coventry', { urgency: 'routine' });
    const immediate = await raiseIn(relay, 'coventry', { urgency: 'immediate' });
    const urgent = await raiseIn(relay, 'coventry', { urgency: 'urgent' });
    for (const referral of [routine, immediate, urgent]) {
      await coventry.get(`/inbox/referrals/${referral.id}`);
      const ack = await coventry.post(`/inbox/referrals/${referral.id}/acknowledge`, {
        team: 'coventry-adults',
      });
      assert.equal(ack.statusCode, 303);
    }
    const ranks = await Promise.all(
      [routine, immediate, urgent].map(
        async (r) => (await routeOf(relay, r.id, 'coventry-adults'))?.urgency_rank,
      ),
    );
    assert.deepEqual(ranks, [0, 2, 1]);
    const due = await section(coventry, 'due');
    const order = [immediate, urgent, routine].map((r) => due.indexOf(r.reference));
    assert.ok(
      order.every((at) => at > 0),
      'all three are in the due pile',
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'immediate, then urgent, then routine',
    );
  });

  it("counts a pile no further than its cap, so a team's years of finished work cost no more than a page", async () => {
    const exact = await countSections(relay.ctx.db.kysely, ['coventry-adults']);
    assert.ok(exact.new >= 22, `the paging test's pile is there (${exact.new})`);
    const capped = await countSections(relay.ctx.db.kysely, ['coventry-adults'], 5);
    assert.deepEqual(capped, { new: 6, due: Math.min(exact.due, 6), done: Math.min(exact.done, 6) });
  });

  it('is for recipients only: crew and admins get 403, the signed-out go to sign-in', async () => {
    for (const browser of [crew, admin]) {
      assert.equal((await browser.get('/inbox')).statusCode, 403);
      assert.equal((await browser.get(`/inbox/referrals/${bhamReferral.id}`)).statusCode, 403);
    }
    const anonymous = formSession(relay.app);
    const response = await anonymous.get('/inbox?view=due');
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, `/sign-in?next=${encodeURIComponent('/inbox?view=due')}`);
    const detail = await anonymous.get(`/inbox/referrals/${bhamReferral.id}`);
    assert.equal(detail.statusCode, 303);
  });
});
