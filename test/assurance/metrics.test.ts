import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { acknowledgeForTeam } from '../../src/response/acknowledgement.service.ts';
import type { AttemptKind, DeliveryState } from '../../src/db/codes.ts';
import { type ReferralBody } from '../../src/referrals/referral.example.ts';
import type { EscalationReason } from '../../src/db/codes.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { has, labelPairs, parseMetrics, sample, series, type Samples } from '../helpers/metrics.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { raise as raiseReferral } from '../helpers/referrals.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Shapes of personal data and identifiers that must never be a label value. */
const FORBIDDEN_IN_LABELS: [string, RegExp][] = [
  ['an email address', /@/],
  ['an NHS number', /\d{3}[\s-]?\d{3}[\s-]?\d{4}/],
  ['a postcode', /\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/i],
  ['a UUID', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i],
  ['a referral reference', /SR-\d{4}-\d+/i],
];

describeEachDialect('GET /metrics', (dialect) => {
  let relay: TestRelay;
  const scraped: string[] = [];
  const raised: { id: string; reference: string; deliveryId: string }[] = [];

  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  async function scrape(): Promise<Samples> {
    const response = await relay.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    scraped.push(response.body);
    return parseMetrics(response.body);
  }

  async function raise(reference: string, urgency: ReferralBody['urgency']) {
    const doc = await raiseReferral(relay, { source: { system: 'test-epcr', reference }, urgency });
    assert.equal(doc.deliveries.length, 1, 'a Birmingham adult gets one email delivery');
    raised.push({ id: doc.id, reference: doc.reference, deliveryId: doc.deliveries[0]!.id });
  }

  const db = () => relay.ctx.db.kysely;
  const setDeliveryState = (id: string, state: DeliveryState) =>
    db().updateTable('deliveries').set({ state }).where('id', '=', id).execute();
  const addAttempt = (deliveryId: string, outcome: AttemptKind) =>
    db()
      .insertInto('delivery_attempts')
      .values({
        delivery_id: deliveryId,
        worker: 'w1',
        started_at: relay.clock.now().toISOString(),
        finished_at: relay.clock.now().toISOString(),
        duration_ms: 20,
        outcome,
        detail: '250 OK',
      })
      .execute();
  const addEscalation = (referralId: string, reason: EscalationReason, state: string) =>
    db()
      .insertInto('escalations')
      .values({
        id: randomUUID(),
        dedupe_key: `${referralId}:birmingham-adults:${reason}:`,
        referral_id: referralId,
        team_id: 'birmingham-adults',
        reason,
        state,
        detail: '{}',
        opened_at: relay.clock.now().toISOString(),
      })
      .execute();
  const acknowledge = (referralId: string) =>
    acknowledgeForTeam(relay.ctx, referralId, 'birmingham-adults', {
      method: 'api',
      name: 'Duty desk',
      actor: 'test',
    });

  it('starts with every fixed label at zero, no heartbeat and not ready', async () => {
    const m = await scrape();
    for (const urgency of ['immediate', 'urgent', 'routine']) {
      assert.equal(sample(m, 'relay_referrals_received_total', { urgency }), 0);
    }
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'sent' }), 0);
    for (const status of ['received', 'triage', 'routed', 'sent', 'escalated']) {
      assert.equal(sample(m, 'relay_referrals_by_status', { status }), 0);
    }
    assert.equal(sample(m, 'relay_deliveries', { state: 'retrying', channel: 'webhook' }), 0);
    assert.equal(sample(m, 'relay_deliveries', { state: 'bounced', channel: 'email' }), 0);
    // Finished work is the bulk of ten years and needs nobody: no series at all, not even a zero.
    assert.deepEqual(series(m, 'relay_referrals_by_status', 'status'), [
      'escalated',
      'received',
      'routed',
      'sent',
      'triage',
    ]);
    assert.deepEqual(series(m, 'relay_deliveries', 'state'), [
      'bounced',
      'failed',
      'queued',
      'retrying',
      'sending',
    ]);
    assert.equal(sample(m, 'relay_escalations_open', { reason: 'missing-referral' }), 0);
    assert.equal(sample(m, 'relay_oldest_unacknowledged_seconds'), 0);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_count'), 0);
    assert.equal(sample(m, 'relay_heartbeat_age_seconds', { component: 'dispatcher' }), -1);
    assert.equal(sample(m, 'relay_heartbeat_age_seconds', { component: 'watchdog' }), -1);
    assert.equal(sample(m, 'relay_ready'), 0);
    assert.ok(m.has('process_cpu_user_seconds_total{}'), 'default process metrics are exposed');
    assert.ok(m.has('nodejs_heap_size_used_bytes{}'), 'default Node metrics are exposed');
  });

  it('counts referrals, deliveries, attempts and open escalations per label', async () => {
    await raise('M1', 'urgent');
    await raise('M2', 'urgent');
    await raise('M3', 'immediate');
    const [m1, m2, m3] = raised as [(typeof raised)[0], (typeof raised)[0], (typeof raised)[0]];
    await setDeliveryState(m1.deliveryId, 'sent');
    await setDeliveryState(m2.deliveryId, 'retrying');
    await addAttempt(m1.deliveryId, 'sent');
    await addAttempt(m2.deliveryId, 'temporary');
    await addAttempt(m2.deliveryId, 'temporary');
    await addEscalation(m2.id, 'not-acknowledged', 'open');
    await addEscalation(m3.id, 'failed', 'claimed');
    await addEscalation(m3.id, 'not-sent', 'resolved');

    const m = await scrape();
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'urgent' }), 2);
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'immediate' }), 1);
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'routine' }), 0);
    assert.equal(sample(m, 'relay_referrals_by_status', { status: 'routed' }), 3);
    // M1's delivery was sent: finished, so counted nowhere in relay_deliveries.
    assert.equal(has(m, 'relay_deliveries', { state: 'sent', channel: 'email' }), false);
    assert.equal(sample(m, 'relay_deliveries', { state: 'retrying', channel: 'email' }), 1);
    assert.equal(sample(m, 'relay_deliveries', { state: 'queued', channel: 'email' }), 1);
    assert.equal(sample(m, 'relay_deliveries', { state: 'failed', channel: 'email' }), 0);
    assert.equal(sample(m, 'relay_deliveries', { state: 'queued', channel: 'webhook' }), 0);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'sent' }), 1);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'temporary' }), 2);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'permanent' }), 0);
    // A claimed escalation is not yet dealt with and still counts; a resolved one does not.
    assert.equal(sample(m, 'relay_escalations_open', { reason: 'not-acknowledged' }), 1);
    assert.equal(sample(m, 'relay_escalations_open', { reason: 'failed' }), 1);
    assert.equal(sample(m, 'relay_escalations_open', { reason: 'not-sent' }), 0);
  });

  it('publishes the time to acknowledge from the last 7 days of acknowledgements', async () => {
    const [m1] = raised as [(typeof raised)[0]];
    relay.clock.advance(10 * MINUTE);
    await acknowledge(m1.id);
    let m = await scrape();
    // Acknowledged, M1 leaves the open statuses; its delivery was already finished.
    assert.equal(sample(m, 'relay_referrals_by_status', { status: 'routed' }), 2);
    assert.equal(has(m, 'relay_referrals_by_status', { status: 'acknowledged' }), false);
    assert.equal(has(m, 'relay_deliveries', { state: 'acknowledged', channel: 'email' }), false);
    assert.equal(sample(m, 'relay_deliveries', { state: 'retrying', channel: 'email' }), 1);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '300' }), 0);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '900' }), 1);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '+Inf' }), 1);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_sum'), 600);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_count'), 1);

    relay.clock.advance(7 * DAY);
    m = await scrape();
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_count'), 1, 'exactly 7 days is inside');
    relay.clock.advance(1);
    m = await scrape();
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_count'), 0, 'older than 7 days drops out');
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '+Inf' }), 0);
    relay.clock.set('2026-11-25T11:10:00Z');
  });

  it('ages the oldest unacknowledged route with the clock, ignoring closed referrals', async () => {
    const [, m2, m3] = raised as [(typeof raised)[0], (typeof raised)[0], (typeof raised)[0]];
    assert.equal(sample(await scrape(), 'relay_oldest_unacknowledged_seconds'), 600);
    relay.clock.advance(20 * MINUTE);
    assert.equal(sample(await scrape(), 'relay_oldest_unacknowledged_seconds'), 1800);
    relay.clock.advance(90 * MINUTE);
    assert.equal(sample(await scrape(), 'relay_oldest_unacknowledged_seconds'), 7200);

    await db()
      .updateTable('referrals')
      .set({ status: 'closed', closed_at: relay.clock.now().toISOString() })
      .where('id', '=', m2.id)
      .execute();
    assert.equal(sample(await scrape(), 'relay_oldest_unacknowledged_seconds'), 7200, 'M3 is still open');
    await acknowledge(m3.id);
    const m = await scrape();
    assert.equal(sample(m, 'relay_oldest_unacknowledged_seconds'), 0);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_count'), 2);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '3600' }), 1);
    assert.equal(sample(m, 'relay_time_to_acknowledge_seconds_bucket', { le: '7200' }), 2);
  });

  it('counts referrals received and attempts made since London midnight; open work however old', async () => {
    // 11:00 British Summer Time on 30 June 2027, seven months after the referrals above.
    relay.clock.set('2027-06-30T10:00:00Z');
    let m = await scrape();
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'urgent' }), 0);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'temporary' }), 0);
    assert.equal(sample(m, 'relay_deliveries', { state: 'retrying', channel: 'email' }), 1, 'M2, still');
    const routed = sample(m, 'relay_referrals_by_status', { status: 'routed' });
    const queued = sample(m, 'relay_deliveries', { state: 'queued', channel: 'email' });

    await raise('M4', 'urgent');
    await addAttempt(raised[3]!.deliveryId, 'temporary');
    // 23:50 BST, still 30 June in London.
    relay.clock.set('2027-06-30T22:50:00Z');
    m = await scrape();
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'urgent' }), 1);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'temporary' }), 1);
    assert.equal(sample(m, 'relay_referrals_by_status', { status: 'routed' }), routed + 1);
    assert.equal(sample(m, 'relay_deliveries', { state: 'queued', channel: 'email' }), queued + 1);

    // 00:10 BST on 1 July, still 30 June in UTC: the day counted is London's. The counters start
    // again from 0 (a counter reset to Prometheus); M4 is still open work.
    relay.clock.set('2027-06-30T23:10:00Z');
    m = await scrape();
    assert.equal(sample(m, 'relay_referrals_received_total', { urgency: 'urgent' }), 0);
    assert.equal(sample(m, 'relay_delivery_attempts_total', { outcome: 'temporary' }), 0);
    assert.equal(sample(m, 'relay_referrals_by_status', { status: 'routed' }), routed + 1);
    assert.equal(sample(m, 'relay_deliveries', { state: 'queued', channel: 'email' }), queued + 1);
  });

  it('counts a failed or bounced copy while its referral is open, and not once the referral is closed', async () => {
    // 11:00 BST, a Thursday: the day team is open, so each referral gets one copy.
    relay.clock.set('2027-07-01T10:00:00Z');
    const before = await scrape();
    const failedBefore = sample(before, 'relay_deliveries', { state: 'failed', channel: 'email' });
    const bouncedBefore = sample(before, 'relay_deliveries', { state: 'bounced', channel: 'email' });
    await raise('M5', 'urgent');
    await raise('M6', 'urgent');
    const [m5, m6] = raised.slice(-2) as [(typeof raised)[0], (typeof raised)[0]];
    await setDeliveryState(m5.deliveryId, 'failed');
    await setDeliveryState(m6.deliveryId, 'bounced');
    let m = await scrape();
    assert.equal(sample(m, 'relay_deliveries', { state: 'failed', channel: 'email' }), failedBefore + 1);
    assert.equal(sample(m, 'relay_deliveries', { state: 'bounced', channel: 'email' }), bouncedBefore + 1);

    // Closed, their referrals need nobody: the failed and the bounced copy are history.
    await db()
      .updateTable('referrals')
      .set({ status: 'closed', closed_at: relay.clock.now().toISOString() })
      .where('id', 'in', [m5.id, m6.id])
      .execute();
    m = await scrape();
    assert.equal(sample(m, 'relay_deliveries', { state: 'failed', channel: 'email' }), failedBefore);
    assert.equal(sample(m, 'relay_deliveries', { state: 'bounced', channel: 'email' }), bouncedBefore);
  });

  it('every node reports the same numbers: a second app on the same database agrees', async () => {
    const { buildApp } = await import('../../src/app.ts');
    const other = buildApp(relay.ctx);
    try {
      const [mine, theirs] = await Promise.all([
        relay.app.inject({ url: '/metrics' }),
        other.inject({ url: '/metrics' }),
      ]);
      const relayLines = (text: string) => text.split('\n').filter((l) => l.startsWith('relay_'));
      assert.deepEqual(relayLines(theirs.body), relayLines(mine.body));
      scraped.push(theirs.body);
    } finally {
      await other.close();
    }
  });

  it('never puts personal data, ids or references in a label value', () => {
    assert.ok(scraped.length > 5);
    for (const text of scraped) {
      for (const [label, value] of labelPairs(text)) {
        for (const [what, pattern] of FORBIDDEN_IN_LABELS) {
          assert.doesNotMatch(value, pattern, `label ${label}="${value}" looks like ${what}`);
        }
      }
      assert.equal(text.includes('@'), false, 'no email address anywhere');
      for (const r of raised) {
        for (const identifier of [r.id, r.reference, r.deliveryId]) {
          assert.equal(text.includes(identifier), false, `metrics mention ${identifier}`);
        }
      }
      for (const personal of ['Whitfield', 'Edna', 'B15 2TT', 'B15', '9434765919', 'Elmdon', 'birmingham']) {
        assert.equal(
          text.toLowerCase().includes(personal.toLowerCase()),
          false,
          `metrics mention ${personal}`,
        );
      }
    }
  });
});
