import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { RelayError } from '../../../src/errors.ts';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { recordOutcome } from '../../../src/response/outcome.service.ts';
import { redirectReferral } from '../../../src/response/redirect.service.ts';
import type { StatusDocument } from '../../../src/referrals/referral.document.schema.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../../helpers/relay.ts';
import {
  assertRefusedBeside,
  deliveriesOf,
  raiseIn,
  routeOf,
  section,
  signInTeams,
} from './inbox.helpers.ts';
import type { Browser } from '../../helpers/web.ts';

const HOUR = 3_600_000;
const by = { name: 'Test Person', actor: 'test', ackMethod: 'inbox' as const };

describeEachDialect('redirecting a referral', (dialect) => {
  let relay: TestRelay;
  let birmingham: Browser;
  let coventry: Browser;

  before(async () => {
    relay = await createTestRelay(dialect);
    ({ birmingham, coventry } = await signInTeams(relay));
  });
  after(async () => relay.close());

  it('refuses a redirect to the same team, or without a reason, beside the fields, and changes nothing', async () => {
    const referral = await raiseIn(relay, 'birmingham');
    await birmingham.get(`/inbox/referrals/${referral.id}`);
    const before = await rowCounts(relay);
    const same = await birmingham.post(`/inbox/referrals/${referral.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'birmingham-adults',
      reason: 'Wrong team',
    });
    assertRefusedBeside(same, 'redirect-to');
    const unknown = await birmingham.post(`/inbox/referrals/${referral.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'atlantis-adults',
      reason: 'Wrong team',
    });
    assert.equal(unknown.statusCode, 422);
    assert.match(unknown.body, /Choose a team from the directory/);
    const noReason = await birmingham.post(`/inbox/referrals/${referral.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'coventry-adults',
      reason: '',
    });
    assert.equal(noReason.statusCode, 422);
    assert.match(noReason.body, /href="#redirect-reason"/);
    assert.match(noReason.body, /<option value="coventry-adults" selected>/, 'the choice made is kept');
    const after = await rowCounts(relay);
    assert.deepEqual(
      { ...after, audit_log: before.audit_log },
      before,
      'only the re-shown views were audited',
    );
    const route = await routeOf(relay, referral.id, 'birmingham-adults');
    assert.equal(route?.outcome, null);
    assert.ok(
      (await deliveriesOf(relay, referral.id, 'birmingham-adults')).every((d) => d.state === 'queued'),
    );
  });

  it('sends the referral to the chosen team: old copies cancelled, a new route and queued delivery', async () => {
    const referral = await raiseIn(relay, 'birmingham');
    await birmingham.get(`/inbox/referrals/${referral.id}`);
    relay.clock.advance(20 * 60_000);
    const response = await birmingham.post(`/inbox/referrals/${referral.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'coventry-adults',
      reason: 'Lives in Coventry since last month',
    });
    assert.equal(response.statusCode, 303);

    const old = await deliveriesOf(relay, referral.id, 'birmingham-adults');
    assert.ok(old.length > 0);
    assert.ok(old.every((d) => d.state === 'cancelled'));
    const from = await routeOf(relay, referral.id, 'birmingham-adults');
    assert.equal(from?.outcome, 'redirected');
    const reason =
      from && unsealField(relay.ctx.config.dataKeys, PERSONAL_FIELDS.outcomeNote, from.id, from.outcome_note);
    assert.equal(reason, 'Lives in Coventry since last month');
    assert.ok(from?.acknowledged_at, 'the team that passed it on had it in hand, so nothing chases it');

    const to = await routeOf(relay, referral.id, 'coventry-adults');
    assert.equal(to?.reason, 'redirected');
    assert.equal(to?.authority_id, 'coventry');
    assert.equal(to?.acknowledged_at, null);
    const fresh = await deliveriesOf(relay, referral.id, 'coventry-adults');
    const email = fresh.find((d) => d.channel === 'email');
    assert.equal(email?.state, 'queued');
    assert.equal(email?.purpose, 'referral');
    assert.equal(email?.route_id, to?.id);
    assert.equal(email?.message_id, `<${email?.id}@${relay.ctx.config.bounceDomain}>`);

    const doc = (
      await relay.app.inject({
        method: 'GET',
        url: `/api/v1/referrals/${referral.id}`,
        headers: { authorization: `Bearer ${relay.epcrKey}` },
      })
    ).json() as StatusDocument;
    const event = doc.timeline.find((e) => e.kind === 'redirected');
    assert.deepEqual(
      { from: event?.detail.from, to: event?.detail.to },
      {
        from: 'birmingham-adults',
        to: 'coventry-adults',
      },
    );
    assert.ok(
      !JSON.stringify(doc.timeline).includes('Lives in Coventry'),
      'the free-text reason stays off the timeline',
    );
    assert.equal(doc.timeline.filter((e) => e.kind === 'delivery-cancelled').length, old.length);
    assert.deepEqual(
      doc.routes.map((r) => [r.team, r.reason, r.outcome]),
      [
        ['birmingham-adults', 'subject-type', 'redirected'],
        ['coventry-adults', 'redirected', null],
      ],
    );
    assert.equal(doc.status, 'routed');
    const audit = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'referral.redirected')
      .where('entity_id', '=', referral.id)
      .execute();
    assert.equal(audit.length, 1);

    assert.ok((await section(coventry, 'new')).includes(referral.reference));
    const shown = await coventry.get(`/inbox/referrals/${referral.id}`);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Edna Whitfield/);
    assert.ok(!(await section(birmingham, 'new')).includes(referral.reference));
    const done = await section(birmingham, 'done');
    assert.ok(done.includes(referral.reference));
    assert.match(done, /Redirected to another team/);
    const theirs = await birmingham.get(`/inbox/referrals/${referral.id}`);
    assert.match(theirs.body, /redirected this referral to Coventry Adult Social Care Front Door/);
  });

  it('refuses to redirect twice, or to a team that already has the referral', async () => {
    const referral = await raiseIn(relay, 'birmingham', { householdChildren: 2 });
    await redirectReferral(relay.ctx, referral.id, 'birmingham-adults', 'coventry-adults', 'Moved', by);
    await assert.rejects(
      redirectReferral(relay.ctx, referral.id, 'birmingham-adults', 'dudley-adults', 'Moved again', by),
      (e: unknown) => e instanceof RelayError && e.code === 'state-conflict',
    );
    await assert.rejects(
      redirectReferral(relay.ctx, referral.id, 'coventry-adults', 'birmingham-children', 'Is a child', by),
      (e: unknown) => e instanceof RelayError && e.code === 'validation-failed',
    );
    await assert.rejects(
      redirectReferral(relay.ctx, referral.id, 'dudley-adults', 'walsall-adults', 'Not ours', by),
      (e: unknown) => e instanceof RelayError && e.code === 'not-found',
    );
    const routes = await relay.ctx.db.kysely
      .selectFrom('routes')
      .select('team_id')
      .where('referral_id', '=', referral.id)
      .execute();
    assert.equal(routes.length, 3);
  });

  // Before the clock moves on: late in the day an urgent referral also goes to the out-of-hours team.
  it('closes the referral once the new team records its outcome', async () => {
    const referral = await raiseIn(relay, 'birmingham');
    await redirectReferral(relay.ctx, referral.id, 'birmingham-adults', 'coventry-adults', 'Moved', by);
    await recordOutcome(
      relay.ctx,
      referral.id,
      'coventry-adults',
      { outcome: 'assessment', note: 'Assessment booked' },
      { name: 'Cal Cooper', actor: 'test', ackMethod: 'inbox' },
    );
    const row = await relay.ctx.db.kysely
      .selectFrom('referrals')
      .select('status')
      .where('id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'closed');
  });
  it('keeps the deadline counted from receipt while it is ahead, and restarts it once it has passed', async () => {
    const early = await raiseIn(relay, 'birmingham');
    const receivedAt = relay.clock.now().getTime();
    relay.clock.advance(HOUR);
    await redirectReferral(relay.ctx, early.id, 'birmingham-adults', 'coventry-adults', 'Moved', by);
    const kept = await routeOf(relay, early.id, 'coventry-adults');
    assert.equal(kept?.ack_by, new Date(receivedAt + 4 * HOUR).toISOString(), 'urgent: 4 hours from receipt');

    const late = await raiseIn(relay, 'birmingham');
    relay.clock.advance(5 * HOUR);
    const now = relay.clock.now().getTime();
    await redirectReferral(relay.ctx, late.id, 'birmingham-adults', 'coventry-adults', 'Moved', by);
    const restarted = await routeOf(relay, late.id, 'coventry-adults');
    assert.equal(
      restarted?.ack_by,
      new Date(now + 4 * HOUR).toISOString(),
      'urgent: 4 hours from the redirect',
    );
    assert.ok(restarted!.reminder_at > new Date(now).toISOString());
  });
});
