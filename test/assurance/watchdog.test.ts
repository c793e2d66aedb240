import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { acknowledgeForTeam } from '../../src/response/acknowledgement.service.ts';
import { sweep } from '../../src/assurance/watchdog.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { raise as raiseReferral } from '../helpers/referrals.ts';

const MINUTE = 60_000;
let counter = 0;

describeEachDialect('the watchdog', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    // Wednesday 11:00 London: Dudley adults is open (Mon–Fri day team).
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
  });
  after(async () => relay.close());

  /** A Dudley adult (one email delivery), its incident a minute before the relay's clock. */
  function raise(overrides: Parameters<typeof exampleReferral>[0] = {}) {
    counter += 1;
    const base = exampleReferral();
    return raiseReferral(relay, {
      source: { system: 'test-epcr', reference: `WD-${counter}` },
      incident: {
        ...base.incident,
        occurredAt: new Date(relay.clock.now().getTime() - MINUTE).toISOString().replace(/\.\d+Z/, 'Z'),
      },
      subject: {
        ...base.subject,
        address: { line1: '1 Castle Hill', town: 'Dudley', postcode: 'DY1 4QF' },
      },
      ...overrides,
    });
  }
  const escalations = (referralId: string) =>
    relay.ctx.db.kysely.selectFrom('escalations').selectAll().where('referral_id', '=', referralId).execute();
  const followUps = (referralId: string) =>
    relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select(['purpose', 'team_id', 'address', 'state'])
      .where('referral_id', '=', referralId)
      .where('purpose', '!=', 'referral')
      .orderBy('purpose')
      .execute();
  const status = async (id: string) =>
    (
      await relay.ctx.db.kysely
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  it('opens exactly one not-sent escalation when a delivery is still unsent past sendBy', async () => {
    const referral = await raise();
    await sweep(relay.ctx);
    assert.deepEqual(await escalations(referral.id), [], 'nothing before the deadline');
    relay.clock.advance(5 * MINUTE + 1);
    await Promise.all([sweep(relay.ctx), sweep(relay.ctx), sweep(relay.ctx)]);
    await sweep(relay.ctx);
    const rows = await escalations(referral.id);
    assert.deepEqual(
      rows.map((e) => [e.team_id, e.reason, e.state]),
      [['dudley-adults', 'not-sent', 'open']],
    );
    assert.equal(await status(referral.id), 'escalated');
    const doc = await relay.app.inject({
      method: 'GET',
      url: `/api/v1/referrals/${referral.id}`,
      headers: { authorization: `Bearer ${relay.epcrKey}` },
    });
    assert.equal(doc.json().escalations[0].reason, 'not-sent');
  });

  it('escalates failed and bounced deliveries once each', async () => {
    const failed = await raise();
    const bounced = await raise();
    const db = relay.ctx.db.kysely;
    await db
      .updateTable('deliveries')
      .set({ state: 'failed', last_error: '550 5.1.1' })
      .where('referral_id', '=', failed.id)
      .execute();
    await db
      .updateTable('deliveries')
      .set({ state: 'bounced', last_error: 'bounced: 5.1.1' })
      .where('referral_id', '=', bounced.id)
      .execute();
    await sweep(relay.ctx);
    await sweep(relay.ctx);
    assert.deepEqual(
      (await escalations(failed.id)).map((e) => e.reason),
      ['failed'],
    );
    assert.deepEqual(
      (await escalations(bounced.id)).map((e) => e.reason),
      ['bounced'],
    );
  });

  it('reminds the team before ackBy, then alerts the secondary address and escalates at ackBy', async () => {
    relay.clock.set('2026-11-25T11:00:00Z');
    const referral = await raise(); // urgent: ackBy 4 h, reminder 15 min before
    await relay.ctx.db.kysely
      .updateTable('deliveries')
      .set({ state: 'sent' })
      .where('referral_id', '=', referral.id)
      .execute();
    const ackBy = new Date(referral.routes[0]!.ackBy).getTime();
    assert.equal(ackBy, Date.parse('2026-11-25T15:00:00Z'));
    relay.clock.set(new Date(ackBy - 15 * MINUTE - 1));
    await sweep(relay.ctx);
    assert.deepEqual(await followUps(referral.id), []);
    relay.clock.advance(1);
    await sweep(relay.ctx);
    await sweep(relay.ctx);
    assert.deepEqual(await followUps(referral.id), [
      {
        purpose: 'reminder',
        team_id: 'dudley-adults',
        address: 'adults.dudley@example.org',
        state: 'queued',
      },
    ]);
    assert.deepEqual(await escalations(referral.id), []);
    relay.clock.set(new Date(ackBy));
    await sweep(relay.ctx);
    await sweep(relay.ctx);
    const purposes = (await followUps(referral.id)).map((d) => [d.purpose, d.address]);
    assert.deepEqual(purposes, [
      ['alert-secondary', 'adults.dudley.duty@example.org'],
      ['reminder', 'adults.dudley@example.org'],
    ]);
    assert.deepEqual(
      (await escalations(referral.id)).map((e) => e.reason),
      ['not-acknowledged'],
    );
  });

  it('alerts the out-of-hours team too when the day team is closed at ackBy', async () => {
    relay.clock.set('2026-11-25T14:00:00Z');
    const referral = await raise(); // urgent, ackBy 18:00 London: Dudley's day team has closed
    await relay.ctx.db.kysely
      .updateTable('deliveries')
      .set({ state: 'sent' })
      .where('referral_id', '=', referral.id)
      .execute();
    relay.clock.set(referral.routes[0]!.ackBy);
    await sweep(relay.ctx);
    const alerts = (await followUps(referral.id)).filter((d) => d.purpose.startsWith('alert'));
    assert.deepEqual(
      alerts.map((d) => [d.purpose, d.team_id, d.address]),
      [
        ['alert-out-of-hours', 'dudley-out-of-hours', 'out-of-hours.dudley@example.org'],
        ['alert-secondary', 'dudley-adults', 'adults.dudley.duty@example.org'],
      ],
    );
  });

  it('closes the escalations of a team when it acknowledges, and escalates nothing acknowledged', async () => {
    relay.clock.set('2026-11-25T11:00:00Z');
    const referral = await raise();
    relay.clock.advance(5 * MINUTE + 1);
    await sweep(relay.ctx);
    assert.equal(await status(referral.id), 'escalated');
    const result = await acknowledgeForTeam(relay.ctx, referral.id, 'dudley-adults', {
      method: 'api',
      name: 'Sam Duty',
      actor: 'test',
    });
    assert.equal(result.acknowledged, true);
    const rows = await escalations(referral.id);
    assert.deepEqual(
      rows.map((e) => [e.reason, e.state]),
      [['not-sent', 'resolved']],
    );
    assert.match(rows[0]!.note ?? '', /Acknowledged by api/);
    assert.equal(await status(referral.id), 'acknowledged');
    relay.clock.advance(5 * 60 * MINUTE);
    await sweep(relay.ctx);
    assert.equal((await escalations(referral.id)).length, 1, 'no not-acknowledged escalation after the ack');
    const again = await acknowledgeForTeam(relay.ctx, referral.id, 'dudley-adults', {
      method: 'api',
      name: 'Someone Else',
      actor: 'test',
    });
    assert.equal(again.acknowledged, false);
    assert.equal(again.by, 'Sam Duty');
  });

  it('escalates a triage item left past its deadline', async () => {
    relay.clock.set('2026-11-25T11:00:00Z');
    const base = exampleReferral();
    const referral = await raise({
      subject: { ...base.subject, address: { line1: '1 High St', town: 'London', postcode: 'SW1A 1AA' } },
      incident: {
        ...base.incident,
        occurredAt: '2026-11-25T10:50:00Z',
        location: { postcode: 'SW1A 2AA' },
      },
    });
    relay.clock.advance(30 * MINUTE);
    await sweep(relay.ctx);
    await sweep(relay.ctx);
    assert.deepEqual(
      (await escalations(referral.id)).map((e) => [e.team_id, e.reason]),
      [[null, 'triage-overdue']],
    );
  });
});
