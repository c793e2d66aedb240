import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { UNFINISHED_STATES } from '../records/delivery.states.ts';
import { UNSENT_DELIVERY_STATES, OPEN_REFERRAL_STATUSES } from './open-work.ts';

/**
 * What `/metrics` reads from the database on each scrape. Open work is counted exactly, however old,
 * through the (status, updated_at) and (state, next_attempt_at) indexes; throughput only since the
 * start of the day, through indexed time ranges. No query reads ten years of finished work, and
 * nothing here selects an id, reference, name or address: the metrics carry fixed label values only.
 */
export interface MetricsSnapshot {
  /** Referrals received since `dayStart`, by urgency. */
  receivedToday: { urgency: string; n: number }[];
  /** Referrals not acknowledged or closed, by status. */
  openReferrals: { status: string; n: number }[];
  /**
   * Deliveries still on their way (queued, sending, retrying), and failed or bounced ones of open
   * referrals and test alerts, by state and channel.
   */
  openDeliveries: { state: string; channel: string; n: number }[];
  /** Send attempts finished since `dayStart`, by outcome. */
  attemptsToday: { outcome: string; n: number }[];
  openEscalations: { reason: string; n: number }[];
  /** Creation time of the oldest unacknowledged route of a referral that is not closed. */
  oldestUnacknowledgedAt: string | null;
  /** Unacknowledged routes of open referrals whose own acknowledgement deadline (`ack_by`) has passed. */
  pastAckDeadline: number;
  /** Seconds from route creation to acknowledgement, for routes acknowledged since `ackSince`. */
  acknowledgeSeconds: number[];
}

export interface MetricsWindow {
  /** The instant today began (London midnight): the daily counters count from here. */
  dayStart: string;
  /** Acknowledgements since this instant make the time-to-acknowledge histogram. */
  ackSince: string;
  /** The scrape's instant: routes whose deadline is before it are overdue. */
  now: string;
}

export async function loadMetricsSnapshot(
  db: Kysely<Database>,
  { dayStart, ackSince, now }: MetricsWindow,
): Promise<MetricsSnapshot> {
  const count = <T extends string>(n: T) => db.fn.countAll<number>().as(n);
  // One after another, so a scrape holds at most one pooled connection away from the dispatcher.
  // A day of referrals through the (received_at, status) index.
  const receivedToday = await db
    .selectFrom('referrals')
    .select(['urgency', count('n')])
    .where('received_at', '>=', dayStart)
    .groupBy('urgency')
    .execute();
  const openReferrals = await db
    .selectFrom('referrals')
    .select(['status', count('n')])
    .where('status', 'in', OPEN_REFERRAL_STATUSES)
    .groupBy('status')
    .execute();
  // Still on its way, whatever its referral; failed or bounced only while the referral (if any: a
  // test alert has none) is open, since a finished referral's failed copy needs nobody.
  const openDeliveries = await db
    .selectFrom('deliveries')
    .leftJoin('referrals', 'referrals.id', 'deliveries.referral_id')
    .select(['deliveries.state', 'deliveries.channel', count('n')])
    .where('deliveries.state', 'in', UNSENT_DELIVERY_STATES)
    .where((w) =>
      w.or([
        w('deliveries.state', 'in', UNFINISHED_STATES),
        w('deliveries.referral_id', 'is', null),
        w('referrals.status', 'in', OPEN_REFERRAL_STATUSES),
      ]),
    )
    .groupBy(['deliveries.state', 'deliveries.channel'])
    .execute();
  // A day of attempts through the (finished_at, outcome) index.
  const attemptsToday = await db
    .selectFrom('delivery_attempts')
    .select(['outcome', count('n')])
    .where('finished_at', '>=', dayStart)
    .groupBy('outcome')
    .execute();
  const openEscalations = await db
    .selectFrom('escalations')
    .select(['reason', count('n')])
    // A claim is a person on it, not the problem solved: claimed escalations still count.
    .where('state', 'in', ['open', 'claimed'])
    .groupBy('reason')
    .execute();
  // Unacknowledged routes are few and must drive the join. SQLite's statistics cannot see that most
  // referrals have a closed_at, and started from referrals: 1.1 s at 1M rows. SQLite takes CROSS JOIN
  // as "this table first"; PostgreSQL plans it as the inner join it is (as the dashboard does).
  const oldest = await db
    .selectFrom('routes')
    .crossJoin('referrals')
    .whereRef('referrals.id', '=', 'routes.referral_id')
    .select((eb) => eb.fn.min('routes.created_at').as('at'))
    .where('routes.acknowledged_at', 'is', null)
    .where('referrals.closed_at', 'is', null)
    .executeTakeFirst();
  const overdue = await db
    .selectFrom('routes')
    .crossJoin('referrals')
    .whereRef('referrals.id', '=', 'routes.referral_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('routes.acknowledged_at', 'is', null)
    .where('referrals.closed_at', 'is', null)
    .where('routes.ack_by', '<', now)
    .executeTakeFirst();
  const acknowledged = await db
    .selectFrom('routes')
    .select(['created_at', 'acknowledged_at'])
    .where('acknowledged_at', '>=', ackSince)
    .execute();
  const numbered = <R extends { n: number | string | bigint }>(rows: R[]) =>
    rows.map((r) => ({ ...r, n: Number(r.n) }));
  return {
    receivedToday: numbered(receivedToday),
    openReferrals: numbered(openReferrals),
    openDeliveries: numbered(openDeliveries),
    attemptsToday: numbered(attemptsToday),
    openEscalations: numbered(openEscalations),
    oldestUnacknowledgedAt: oldest?.at ?? null,
    pastAckDeadline: Number(overdue?.n ?? 0),
    acknowledgeSeconds: acknowledged.flatMap((r) =>
      r.acknowledged_at
        ? [Math.max(0, (Date.parse(r.acknowledged_at) - Date.parse(r.created_at)) / 1000)]
        : [],
    ),
  };
}
