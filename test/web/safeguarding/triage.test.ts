import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { outsideCoverage } from './helpers.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

describeEachDialect('safeguarding triage pages', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;
  const triageItemOf = (referralId: string) =>
    db()
      .selectFrom('triage_items')
      .selectAll()
      .where('referral_id', '=', referralId)
      .executeTakeFirstOrThrow();
  const statusOf = async (referralId: string) =>
    (
      await db()
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', referralId)
        .executeTakeFirstOrThrow()
    ).status;

  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  describe('routing an SW1A referral by hand to coventry-adults', () => {
    let referral: { id: string; reference: string };
    let itemId: string;
    let browser: Browser;
    let routedAt: string;

    before(async () => {
      referral = await raise(relay, outsideCoverage());
      assert.equal(await statusOf(referral.id), 'triage');
      // Past the 30-minute triage deadline: the watchdog escalates, and the queue shows it overdue.
      relay.clock.advance(31 * MINUTE);
      await sweep(relay.ctx);
      itemId = (await triageItemOf(referral.id)).id;
      browser = (await signedIn(relay, { roles: ['safeguarding'], name: 'Sam Safeguarding' })).browser;
    });

    it('lists it in the triage queue, overdue, and shows only postcode districts on its page', async () => {
      assert.equal(await statusOf(referral.id), 'escalated', 'its triage deadline has passed');
      const queue = await browser.get('/safeguarding/triage');
      assert.match(queue.body, new RegExp(`href="/safeguarding/triage/${itemId}">${referral.reference}</a>`));
      assert.match(queue.body, /No authority covers the postcode/);
      assert.match(queue.body, /Overdue/);
      const page = await browser.get(`/safeguarding/triage/${itemId}`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Home postcode district\s*<\/dt>\s*<dd[^>]*>\s*SW1A\s*</);
      assert.doesNotMatch(page.body, /SW1A 2AA|Downing Street/, 'districts only, not the address');
      assert.match(page.body, /<optgroup label="Coventry City Council">\s*<option value="coventry-adults">/);
    });

    it('asks for confirmation first, showing where it goes and the deadline', async () => {
      const confirm = await browser.post(`/safeguarding/triage/${itemId}`, { teamId: 'coventry-adults' });
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /Send this referral to Coventry Adult Social Care Front Door\?/);
      assert.match(confirm.body, /Email to adults\.coventry@example\.org/);
      assert.match(confirm.body, /Wed, 25 Nov 2026, 15:00/, 'the urgent deadline from receipt still stands');
      assert.equal((await triageItemOf(referral.id)).resolved_at, null, 'nothing changes until confirmed');
    });

    it('creates the route and a queued delivery for the team', async () => {
      const routed = await browser.post(`/safeguarding/triage/${itemId}`, {
        teamId: 'coventry-adults',
        confirm: 'yes',
      });
      assert.equal(routed.statusCode, 303, routed.body);
      assert.equal(routed.headers.location, `/safeguarding/triage?routed=${itemId}`);
      routedAt = relay.clock.now().toISOString();
      const route = await db()
        .selectFrom('routes')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [route.team_id, route.authority_id, route.reason, route.ack_by],
        ['coventry-adults', 'coventry', 'manual', '2026-11-25T15:00:00.000Z'],
      );
      const deliveries = await db()
        .selectFrom('deliveries')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .execute();
      assert.deepEqual(
        deliveries.map((d) => [d.route_id, d.channel, d.address, d.state, d.purpose, d.send_by]),
        [
          [
            route.id,
            'email',
            'adults.coventry@example.org',
            'queued',
            'referral',
            new Date(Date.parse(routedAt) + 5 * MINUTE).toISOString(),
          ],
        ],
      );
      const listed = await browser.get(routed.headers.location as string);
      assert.match(listed.body, new RegExp(`${referral.reference} has been routed by hand`));
      assert.match(listed.body, /The triage queue is empty/);
    });

    it('resolves the triage item and its overdue escalation, and the status leaves triage', async () => {
      const resolved = await triageItemOf(referral.id);
      assert.deepEqual(
        [resolved.resolved_at, resolved.resolved_by, resolved.resolution],
        [routedAt, 'Sam Safeguarding', 'routed by hand to coventry-adults'],
      );
      const escalation = await db()
        .selectFrom('escalations')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .where('reason', '=', 'triage-overdue')
        .executeTakeFirstOrThrow();
      assert.equal(escalation.state, 'resolved');
      assert.match(
        escalation.note ?? '',
        /Routed by hand to Coventry Adult Social Care Front Door by Sam Safeguarding/,
      );
      assert.equal(await statusOf(referral.id), 'routed');
    });

    it('records it in the timeline and the audit log', async () => {
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'referral.routed-by-hand')
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.entity_id, referral.id);
      const events = await db()
        .selectFrom('referral_events')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .execute();
      assert.ok(events.some((e) => e.kind === 'routed' && e.detail.includes('"manual"')));
    });

    it('refuses to route the same item twice', async () => {
      const twice = await browser.post(`/safeguarding/triage/${itemId}`, {
        teamId: 'coventry-children',
        confirm: 'yes',
      });
      assert.equal(twice.statusCode, 409);
      assert.match(twice.body, /Already routed by Sam Safeguarding/);
      const routes = await db()
        .selectFrom('routes')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .execute();
      assert.equal(routes.length, 1);
    });
  });

  it('runs the deadline from now when the one from receipt has passed, and says so', async () => {
    const referral = await raise(relay, { ...outsideCoverage(), urgency: 'immediate' });
    relay.clock.advance(2 * HOUR);
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const item = await triageItemOf(referral.id);
    const confirm = await browser.post(`/safeguarding/triage/${item.id}`, { teamId: 'coventry-adults' });
    assert.match(confirm.body, /The deadline runs from now/);
    await browser.post(`/safeguarding/triage/${item.id}`, { teamId: 'coventry-adults', confirm: 'yes' });
    const route = await db()
      .selectFrom('routes')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal(route.ack_by, new Date(relay.clock.now().getTime() + HOUR).toISOString());
  });

  it('asks for a team beside the select when none is chosen, and changes nothing', async () => {
    const referral = await raise(relay, outsideCoverage());
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const item = await triageItemOf(referral.id);
    await browser.get(`/safeguarding/triage/${item.id}`);
    for (const teamId of ['', 'no-such-team']) {
      const response = await browser.post(`/safeguarding/triage/${item.id}`, { teamId, confirm: 'yes' });
      assert.equal(response.statusCode, 422);
      assert.match(response.body, /nhsuk-error-summary/);
      assert.match(response.body, /href="#team-id">\s*Select the team to send the referral to/);
      assert.match(response.body, /id="team-id-error"/);
    }
    assert.equal((await triageItemOf(referral.id)).resolved_at, null);
    assert.equal(await statusOf(referral.id), 'triage');
  });
});
