import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { createAckToken } from '../../src/records/ack-token.ts';
import { openEscalation } from '../../src/records/escalation.service.ts';
import { queueFollowUp } from '../../src/records/delivery.repository.ts';
import { DAY } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, TEST_SECRET, type TestRelay } from '../helpers/relay.ts';
import { ackLinkClient } from './ack-link.helpers.ts';

describeEachDialect('acknowledge links of reminders, alerts and test alerts', (dialect) => {
  let relay: TestRelay;
  const START = '2026-11-25T11:00:00Z';

  before(async () => (relay = await createTestRelay(dialect, { now: START })));
  after(async () => relay.close());

  const { db, raise, openForm, submit } = ackLinkClient(() => relay);

  it("a reminder's link acknowledges the route it is about; its out-of-hours alert then has nothing left to do", async () => {
    const { reference, route, delivery } = await raise();
    const queue = (purpose: 'reminder' | 'alert-out-of-hours', teamId: string, address: string) =>
      db()
        .transaction()
        .execute((trx) =>
          queueFollowUp(trx, {
            referralId: route.referral_id,
            routeId: route.id,
            teamId,
            channel: 'email',
            address,
            purpose,
            now: relay.clock.now(),
            sendBy: relay.clock.now(),
            messageDomain: 'relay.test',
          }),
        );
    const reminderId = await queue('reminder', 'birmingham-adults', 'adults.birmingham@example.org');
    const alertId = await queue(
      'alert-out-of-hours',
      'birmingham-out-of-hours',
      'out-of-hours.birmingham@example.org',
    );
    assert.ok(reminderId && alertId);

    const alertUrl = `/ack/${createAckToken(TEST_SECRET, alertId, relay.clock.now())}`;
    const alertPage = await openForm(alertUrl);
    assert.ok(alertPage.page.body.includes(reference));
    assert.match(alertPage.page.body, /Covering for/);
    assert.match(alertPage.page.body, /out-of-hours cover for Birmingham Adult Social Care Front Door/);

    const url = `/ack/${createAckToken(TEST_SECRET, reminderId, relay.clock.now())}`;
    const { csrf, cookies } = await openForm(url);
    const response = await submit(url, { fullName: 'Jo Evans', _csrf: csrf }, cookies);
    assert.equal(response.statusCode, 200, response.body);
    assert.ok(response.body.includes(`Referral ${reference} acknowledged`));
    const ack = await db()
      .selectFrom('acknowledgements')
      .selectAll()
      .where('route_id', '=', route.id)
      .executeTakeFirstOrThrow();
    assert.equal(ack.delivery_id, reminderId);
    assert.equal(ack.by_name, 'Jo Evans');
    const states = await db()
      .selectFrom('deliveries')
      .select(['id', 'state'])
      .where('id', 'in', [delivery.id, reminderId, alertId])
      .execute();
    assert.deepEqual(
      Object.fromEntries(states.map((s) => [s.id, s.state])),
      { [delivery.id]: 'acknowledged', [reminderId]: 'acknowledged', [alertId]: 'queued' },
      "every copy to that team stops; the out-of-hours team's alert is its own",
    );
    const already = await submit(
      alertUrl,
      { fullName: 'Out of hours', _csrf: alertPage.csrf },
      alertPage.cookies,
    );
    assert.match(already.body, /already been acknowledged/);
    assert.match(
      already.body,
      /Jo Evans acknowledged referral .* for Birmingham Adult Social Care Front Door/,
    );
    const routes = await db()
      .selectFrom('routes')
      .select('team_id')
      .where('referral_id', '=', route.referral_id)
      .execute();
    assert.deepEqual(
      routes.map((r) => r.team_id),
      ['birmingham-adults'],
      'no cover route for a settled alert',
    );
  });

  it('a test alert link acknowledges the test alert', async () => {
    const now = relay.clock.now();
    const deliveryId = await db()
      .transaction()
      .execute(async (trx) => {
        const id = await queueFollowUp(trx, {
          referralId: null,
          routeId: null,
          teamId: 'coventry-adults',
          channel: 'email',
          address: 'adults.coventry@example.org',
          purpose: 'test-alert',
          now,
          sendBy: now,
          messageDomain: 'relay.test',
        });
        assert.ok(id);
        await trx
          .insertInto('test_alerts')
          .values({
            id: randomUUID(),
            team_id: 'coventry-adults',
            channel: 'email',
            address: 'adults.coventry@example.org',
            delivery_id: id,
            created_at: now.toISOString(),
            ack_by: new Date(now.getTime() + DAY).toISOString(),
            acknowledged_at: null,
            acknowledged_by: null,
          })
          .execute();
        return id;
      });
    const alertId = (
      await db()
        .selectFrom('test_alerts')
        .select('id')
        .where('delivery_id', '=', deliveryId)
        .executeTakeFirstOrThrow()
    ).id;
    const detail = { address: 'adults.coventry@example.org', testAlert: alertId };
    await db()
      .transaction()
      .execute((trx) =>
        openEscalation(
          trx,
          {
            referralId: null,
            teamId: 'coventry-adults',
            reason: 'test-alert-unacknowledged',
            detail,
            occasion: alertId,
          },
          now,
        ),
      );
    const url = `/ack/${createAckToken(TEST_SECRET, deliveryId, now)}`;
    const { page, csrf, cookies } = await openForm(url);
    assert.match(page.body, /Acknowledge this test alert/);
    assert.match(page.body, /Coventry/);
    relay.clock.advance(5 * 60_000);
    const response = await submit(url, { fullName: 'Alex Moore', _csrf: csrf }, cookies);
    assert.equal(response.statusCode, 200, response.body);
    assert.match(response.body, /Test alert acknowledged/);
    const alert = await db()
      .selectFrom('test_alerts')
      .selectAll()
      .where('delivery_id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    assert.equal(alert.acknowledged_at, relay.clock.now().toISOString());
    assert.equal(alert.acknowledged_by, 'Alex Moore');
    const delivery = await db()
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    assert.equal(delivery.state, 'acknowledged');
    const audit = await db()
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', 'in', [alert.id, deliveryId])
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['delivery.acknowledged', 'test-alert.acknowledged'],
    );
    const escalation = await db()
      .selectFrom('escalations')
      .selectAll()
      .where('reason', '=', 'test-alert-unacknowledged')
      .where('team_id', '=', 'coventry-adults')
      .executeTakeFirstOrThrow();
    assert.equal(escalation.state, 'resolved', 'the address is proven, so its escalation has its answer');
    assert.match(escalation.note ?? '', /Alex Moore/);
    const again = await submit(url, { fullName: 'Someone Else', _csrf: csrf }, cookies);
    assert.match(again.body, /already been acknowledged/);
    assert.ok(again.body.includes('Alex Moore'));
    relay.clock.set(START);
  });
});
