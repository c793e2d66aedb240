import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * What `/metrics` reads from the database on each scrape. Every query is a GROUP BY count or a
 * narrow indexed range, and nothing here selects an id, reference, name or address: the metrics
 * carry fixed label values only.
 */
export interface MetricsSnapshot {
  referrals: { urgency: string; status: string; n: number }[];
  deliveries: { state: string; channel: string; n: number }[];
  attempts: { outcome: string; n: number }[];
  openEscalations: { reason: string; n: number }[];
  /** Creation time of the oldest unacknowledged route of a referral that is not closed. */
  oldestUnacknowledgedAt: string | null;
  /** Seconds from route creation to acknowledgement, for routes acknowledged since `ackSince`. */
  acknowledgeSeconds: number[];
}

export async function loadMetricsSnapshot(db: Kysely<Database>, ackSince: string): Promise<MetricsSnapshot> {
  const count = <T extends string>(n: T) => db.fn.countAll<number>().as(n);
  // One after another, so a scrape holds at most one pooled connection away from the dispatcher.
  const referrals = await db
    .selectFrom('referrals')
    .select(['urgency', 'status', count('n')])
    .groupBy(['urgency', 'status'])
    .execute();
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['state', 'channel', count('n')])
    .groupBy(['state', 'channel'])
    .execute();
  const attempts = await db
    .selectFrom('delivery_attempts')
    .select(['outcome', count('n')])
    .groupBy('outcome')
    .execute();
  const openEscalations = await db
    .selectFrom('escalations')
    .select(['reason', count('n')])
    .where('state', '=', 'open')
    .groupBy('reason')
    .execute();
  const oldest = await db
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
    .select((eb) => eb.fn.min('routes.created_at').as('at'))
    .where('routes.acknowledged_at', 'is', null)
    .where('referrals.closed_at', 'is', null)
    .executeTakeFirst();
  const acknowledged = await db
    .selectFrom('routes')
    .select(['created_at', 'acknowledged_at'])
    .where('acknowledged_at', '>=', ackSince)
    .execute();
  const numbered = <R extends { n: number | string | bigint }>(rows: R[]) =>
    rows.map((r) => ({ ...r, n: Number(r.n) }));
  return {
    referrals: numbered(referrals),
    deliveries: numbered(deliveries),
    attempts: numbered(attempts),
    openEscalations: numbered(openEscalations),
    oldestUnacknowledgedAt: oldest?.at ?? null,
    acknowledgeSeconds: acknowledged.flatMap((r) =>
      r.acknowledged_at
        ? [Math.max(0, (Date.parse(r.acknowledged_at) - Date.parse(r.created_at)) / 1000)]
        : [],
    ),
  };
}
