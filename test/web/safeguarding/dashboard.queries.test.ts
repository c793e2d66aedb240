import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { acknowledgeForTeam } from '../../../src/response/acknowledgement.service.ts';
import { claimEscalation, openEscalation } from '../../../src/records/escalation.service.ts';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { MINUTE } from '../../../src/time.ts';
import { loadDashboardFacts, type DashboardFacts } from '../../../src/web/safeguarding/dashboard.queries.ts';
import { dailyVolume } from '../../../src/web/safeguarding/dashboard.stats.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { dudleyReferral, raise } from '../../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { outsideCoverage } from './helpers.ts';

/**
 * The dashboard's facts straight from loadDashboardFacts, at the edges of its periods. "Now" is
 * 2026-11-25 12:00 UTC (London is on GMT): time to acknowledge covers routes created from
 * 2026-10-26 12:00, finished work referrals received from London midnight on 27 October, and the
 * daily volume the 28 London days from 29 October.
 */
const NOW = '2026-11-25T12:00:00.000Z';

describeEachDialect('dashboard facts', (dialect) => {
  let relay: TestRelay;
  let facts: DashboardFacts;
  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-10-26T11:00:00Z' });
    // Birmingham: acknowledged after 1 min (before the time-to-acknowledge period), 10 min (in it,
    // but received before the finished-work period) and 30 min (in both). At night each goes to
    // the day team and the out-of-hours team, and both acknowledge.
    await raiseAndAcknowledge(relay, '2026-10-26T11:00:00Z', 1);
    await raiseAndAcknowledge(relay, '2026-10-26T23:30:00Z', 10);
    await raiseAndAcknowledge(relay, '2026-10-27T00:30:00Z', 30);
    // Dudley, today, unacknowledged: one past its four-hour deadline (sent to both teams, at 06:00),
    // one still within it.
    await raiseAt(relay, '2026-11-25T06:00:00Z', dudleyReferral('DUDLEY-LATE'));
    await raiseAt(relay, '2026-11-25T11:30:00Z', dudleyReferral('DUDLEY-WAITING'));
    // Triage: one past its 30 minutes, one not yet.
    await raiseAt(relay, '2026-11-25T11:00:00Z', outsideCoverage());
    await raiseAt(relay, '2026-11-25T11:45:00Z', outsideCoverage());
    await twoEscalationsOneClaimed(relay);
    relay.clock.set(NOW);
    facts = await loadDashboardFacts(relay.ctx.db.kysely, relay.clock.now());
  });
  after(async () => relay.close());

  it('gives time to acknowledge per authority over routes created in the last 30 days', () => {
    const byAuthority = Object.fromEntries(facts.ackStats.map((s) => [s.authorityId, s]));
    assert.deepEqual(Object.keys(byAuthority).sort(), ['birmingham', 'dudley']);
    // Nearest rank of (10, 10, 30, 30 min): median rank 2, 90th percentile rank 4. The 1 min is too old.
    assert.deepEqual(byAuthority.birmingham, {
      authorityId: 'birmingham',
      routes: 4,
      acknowledged: 4,
      waiting: 0,
      medianMs: 10 * MINUTE,
      p90Ms: 30 * MINUTE,
      breaches: 0,
      // Each team's own figures: both acknowledged both of their copies.
      teams: ['birmingham-adults', 'birmingham-out-of-hours'].map((teamId) => ({
        teamId,
        routes: 2,
        acknowledged: 2,
        waiting: 0,
        medianMs: 10 * MINUTE,
        p90Ms: 30 * MINUTE,
        breaches: 0,
      })),
    });
    // Past its deadline unacknowledged is a breach, not waiting; nothing acknowledged, no percentiles.
    assert.deepEqual(byAuthority.dudley, {
      authorityId: 'dudley',
      routes: 3,
      acknowledged: 0,
      waiting: 1,
      medianMs: undefined,
      p90Ms: undefined,
      breaches: 2,
      teams: [
        { teamId: 'dudley-adults', routes: 2, acknowledged: 0, waiting: 1, breaches: 1 },
        { teamId: 'dudley-out-of-hours', routes: 1, acknowledged: 0, waiting: 0, breaches: 1 },
      ].map((t) => ({ ...t, medianMs: undefined, p90Ms: undefined })),
    });
  });

  it('counts finished referrals and deliveries from London midnight at the start of the period', () => {
    assert.equal(facts.finishedFrom, '2026-10-27');
    assert.deepEqual([...facts.finishedReferrals], [['acknowledged', 1]]);
    assert.deepEqual([...facts.finishedDeliveries], [['acknowledged', 2]], 'both copies of the 00:30 one');
  });

  it('counts open work, escalations and triage, overdue or not', () => {
    assert.deepEqual(Object.fromEntries(facts.openReferrals), { routed: 2, triage: 2 });
    assert.deepEqual(Object.fromEntries(facts.openDeliveries), { queued: 3 });
    assert.deepEqual(facts.escalations, { open: 1, claimed: 1 });
    assert.deepEqual(facts.triage, { open: 2, overdue: 1 });
  });

  it('gives referrals per London day for the last 28 days, none from before them', () => {
    const days = dailyVolume(facts.receivedByHour, relay.clock.now(), 28);
    assert.equal(days[0]?.date, '2026-10-29');
    assert.deepEqual(
      days.filter((d) => d.count > 0),
      [{ date: '2026-11-25', count: 4 }],
    );
  });
});

const ACK = { method: 'phone', name: 'Duty worker', actor: 'test' } as const;

/** Raised at `at`, of an incident that moment. */
async function raiseAt(relay: TestRelay, at: string, body: Parameters<typeof exampleReferral>[0] = {}) {
  relay.clock.set(at);
  const base = exampleReferral(body);
  return raise(relay, { ...body, incident: { ...base.incident, occurredAt: at } });
}

/** A Birmingham referral raised at `at` and acknowledged by each team it went to `minutes` later. */
async function raiseAndAcknowledge(relay: TestRelay, at: string, minutes: number): Promise<void> {
  const { id } = await raiseAt(relay, at);
  const routes = await relay.ctx.db.kysely
    .selectFrom('routes')
    .select('team_id')
    .where('referral_id', '=', id)
    .execute();
  relay.clock.advance(minutes * MINUTE);
  for (const route of routes) await acknowledgeForTeam(relay.ctx, id, route.team_id, ACK);
}

async function twoEscalationsOneClaimed(relay: TestRelay): Promise<void> {
  const db = relay.ctx.db.kysely;
  for (const occasion of ['2026-11-24', '2026-11-25']) {
    const escalation = { referralId: null, teamId: null, reason: 'volume-drop', occasion } as const;
    await openEscalation(db, escalation, relay.clock.now());
  }
  const first = await db
    .selectFrom('escalations')
    .select('id')
    .where('dedupe_key', 'like', '%2026-11-24')
    .executeTakeFirstOrThrow();
  await claimEscalation(relay.ctx, first.id, { name: 'Sam Safeguarding', actor: 'test' });
}
