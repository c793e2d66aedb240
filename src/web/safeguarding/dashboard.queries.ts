import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import {
  FINISHED_DELIVERY_STATES,
  FINISHED_REFERRAL_STATUSES,
  OPEN_DELIVERY_STATES,
  OPEN_REFERRAL_STATUSES,
  SUPERSEDED,
  UNSENT_DELIVERY_STATES,
} from '../../assurance/open-work.ts';
import { UNFINISHED_STATES } from '../../records/delivery.states.ts';
import { londonToInstant } from '../../directory/hours.ts';
import { DAY } from '../../time.ts';
import { ackStatsByTeam, firstDayOf, type AreaAckStats } from './dashboard.stats.ts';

/**
 * What the safeguarding dashboard reads. Open work is counted exactly, however old; finished work
 * (the bulk of ten years) only over a recent period, so every query reads open rows or a recent
 * index range, never a whole table. Percentiles and London days are worked out in TypeScript, so
 * the same code answers on SQLite and PostgreSQL.
 */
export interface DashboardFacts {
  /** Every referral not yet acknowledged or closed, by status. */
  openReferrals: Map<string, number>;
  /** Every copy of an open referral not yet acknowledged by its team (sent ones too), and any still on its way, by state. */
  openDeliveries: Map<string, number>;
  /** London date the finished-work period starts on: FINISHED_PERIOD_DAYS days up to and including today. */
  finishedFrom: string;
  /** Referrals received since the period's start that are now acknowledged or closed, by status. */
  finishedReferrals: Map<string, number>;
  /** Deliveries queued since the period's start now acknowledged or cancelled, or superseded (see open-work.ts), by state. */
  finishedDeliveries: Map<string, number>;
  escalations: { open: number; claimed: number };
  triage: { open: number; overdue: number };
  /** Triage items resolved since the period's start, by outcome (routed, handed-off, closed). */
  triageFinished: Map<string, number>;
  oldestUnacknowledged: OldestUnacknowledged | undefined;
  /** Time to acknowledge per authority and per team, over routes created (teams sent a referral) in the last ACK_PERIOD_DAYS. */
  ackStats: AreaAckStats[];
  /** Referrals received per UTC hour ('YYYY-MM-DDTHH') since the first London day of the volume or finished-work period, whichever is earlier. */
  receivedByHour: { hour: string; count: number }[];
}

export interface OldestUnacknowledged {
  referralId: string;
  reference: string;
  receivedAt: string;
  teamId: string;
  ackBy: string;
  directoryVersion: number | null;
}

export const ACK_PERIOD_DAYS = 30;
export const VOLUME_DAYS = 28;
export const FINISHED_PERIOD_DAYS = 30;

const count = (db: Kysely<Database>) => db.fn.countAll<number | string | bigint>().as('n');

export async function loadDashboardFacts(db: Kysely<Database>, now: Date): Promise<DashboardFacts> {
  const at = now.toISOString();
  const finishedFrom = firstDayOf(now, FINISHED_PERIOD_DAYS);
  const since = londonToInstant(finishedFrom, '00:00').toISOString();
  const volumeSince = londonToInstant(firstDayOf(now, VOLUME_DAYS), '00:00').toISOString();
  const ackSince = new Date(now.getTime() - ACK_PERIOD_DAYS * DAY).toISOString();
  // Two connections: the month of routes, the longest read, is ranked in TypeScript while the rest
  // are read in turn on the other. Two at most, so a busy dashboard never holds one per statement;
  // on SQLite the driver runs them one after another anyway.
  const [ackStats, [counts, received, oldest]] = await Promise.all([
    ackStatsSince(db, ackSince, at),
    (async () =>
      [
        await workCounts(db, since, at),
        // From the earlier of the two periods' starts, so one read serves both.
        await receivedByHour(db, since < volumeSince ? since : volumeSince),
        await oldestUnacknowledged(db),
      ] as const)(),
  ]);
  const tally = (kind: string) => counts.get(kind) ?? new Map<string, number>();
  return {
    finishedFrom,
    openReferrals: tally('openReferrals'),
    openDeliveries: tally('openDeliveries'),
    finishedReferrals: finishedSince(received, since),
    finishedDeliveries: tally('finishedDeliveries'),
    escalations: {
      open: tally('escalations').get('open') ?? 0,
      claimed: tally('escalations').get('claimed') ?? 0,
    },
    triage: { open: tally('triage').get('open') ?? 0, overdue: tally('triage').get('overdue') ?? 0 },
    triageFinished: tally('triageFinished'),
    oldestUnacknowledged: oldest,
    ackStats,
    receivedByHour: received.map(({ hour, count }) => ({ hour, count })),
  };
}

/**
 * Every count but the finished referrals (see receivedByHour), by kind and then status or state, in
 * one statement where there were six: on PostgreSQL at 1M rows under load that took 6 ms at the
 * median and 7 ms at the 99th percentile, against 8 ms and 17 ms. Each branch still reads only
 * its own index: open work through the status and state indexes, escalations_state and
 * triage_open; finished deliveries through (created_at, state).
 */
async function workCounts(db: Kysely<Database>, since: string, at: string) {
  const kind = (name: string) => sql.lit(name).as('kind');
  const key = (name: string) => sql.lit(name).as('key');
  const rows = await db
    .selectFrom('referrals')
    .select([kind('openReferrals'), 'status as key', count(db)])
    .where('status', 'in', OPEN_REFERRAL_STATUSES)
    .groupBy('status')
    .unionAll(
      // Every copy of an open referral that its team has not acknowledged, sent ones included.
      db
        .selectFrom('referrals')
        .innerJoin('deliveries', 'deliveries.referral_id', 'referrals.id')
        .select([kind('openDeliveries'), 'deliveries.state as key', count(db)])
        .where('referrals.status', 'in', OPEN_REFERRAL_STATUSES)
        .where('deliveries.state', 'in', OPEN_DELIVERY_STATES)
        .groupBy('deliveries.state'),
    )
    .unionAll(
      // Still on its way whatever its referral, and test alerts (no referral) until sent.
      db
        .selectFrom('deliveries')
        .leftJoin('referrals', 'referrals.id', 'deliveries.referral_id')
        .select([kind('openDeliveries'), 'deliveries.state as key', count(db)])
        .where('deliveries.state', 'in', UNSENT_DELIVERY_STATES)
        .where((w) =>
          w.or([
            w('deliveries.referral_id', 'is', null),
            w.and([
              w('referrals.status', 'in', FINISHED_REFERRAL_STATUSES),
              w('deliveries.state', 'in', UNFINISHED_STATES),
            ]),
          ]),
        )
        .groupBy('deliveries.state'),
    )
    .unionAll(
      db
        .selectFrom('deliveries')
        .select([kind('finishedDeliveries'), 'state as key', count(db)])
        .where('created_at', '>=', since)
        .where('state', 'in', FINISHED_DELIVERY_STATES)
        .groupBy('state'),
    )
    .unionAll(
      // Left sent, failed or bounced when the referral was acknowledged or closed another way.
      db
        .selectFrom('deliveries')
        .innerJoin('referrals', 'referrals.id', 'deliveries.referral_id')
        .select([kind('finishedDeliveries'), key(SUPERSEDED), count(db)])
        .where('deliveries.created_at', '>=', since)
        .where('deliveries.state', 'in', ['sent', 'failed', 'bounced'])
        .where('referrals.status', 'in', FINISHED_REFERRAL_STATUSES),
    )
    .unionAll(
      db
        .selectFrom('escalations')
        .select([kind('escalations'), 'state as key', count(db)])
        .where('state', 'in', ['open', 'claimed'])
        .groupBy('state'),
    )
    .unionAll(
      db
        .selectFrom('triage_items')
        .select([kind('triage'), key('open'), count(db)])
        .where('resolved_at', 'is', null),
    )
    .unionAll(
      // How triage finished referrals over the period: routed, handed off or closed.
      db
        .selectFrom('triage_items')
        .select([kind('triageFinished'), sql<string>`coalesce(outcome, 'routed')`.as('key'), count(db)])
        .where('resolved_at', '>=', since)
        .groupBy('outcome'),
    )
    .unionAll(
      db
        .selectFrom('triage_items')
        .select([kind('triage'), key('overdue'), count(db)])
        .where('resolved_at', 'is', null)
        .where('triage_by', '<=', at),
    )
    .execute();
  const counts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (Number(r.n) === 0) continue;
    let byKey = counts.get(r.kind);
    if (!byKey) counts.set(r.kind, (byKey = new Map()));
    // Two branches can count the same state (open referrals' copies and test alerts).
    byKey.set(r.key, (byKey.get(r.key) ?? 0) + Number(r.n));
  }
  return counts;
}

/** The referral that has waited longest for any team to acknowledge it, and that team. */
async function oldestUnacknowledged(db: Kysely<Database>): Promise<OldestUnacknowledged | undefined> {
  // Unacknowledged routes are few, so they must drive the join. SQLite's statistics cannot see that
  // most referrals have a closed_at (a NULL looks as rare as any one timestamp), and it would start
  // from referrals instead: over a second at 1M rows. SQLite takes CROSS JOIN as "this table first";
  // PostgreSQL plans it as the inner join it is.
  const row = await db
    .selectFrom('routes')
    .crossJoin('referrals')
    .whereRef('referrals.id', '=', 'routes.referral_id')
    .select([
      'referrals.id',
      'referrals.reference',
      'referrals.received_at',
      'referrals.directory_version',
      'routes.team_id',
      'routes.ack_by',
    ])
    .where('routes.acknowledged_at', 'is', null)
    .where('referrals.closed_at', 'is', null)
    .orderBy('referrals.received_at')
    .orderBy('routes.ack_by')
    .limit(1)
    .executeTakeFirst();
  return (
    row && {
      referralId: row.id,
      reference: row.reference,
      receivedAt: row.received_at,
      teamId: row.team_id,
      ackBy: row.ack_by,
      directoryVersion: row.directory_version,
    }
  );
}

/**
 * Time to acknowledge per team and per authority, for routes created (teams sent a referral) since `since`.
 * Counts and deadlines are aggregated in SQL; the percentiles need every acknowledged route's
 * duration, and SQLite has no percentile function, so those come back as one string per authority
 * of "created acknowledged" pairs, ranked in TypeScript. Row by row, a month of a large region
 * (thousands of routes) cost PostgreSQL more to send and node-postgres more to build than the
 * aggregation itself; computing the durations in PostgreSQL (casting text to timestamptz) was slower still.
 */
async function ackStatsSince(db: Kysely<Database>, since: string, at: string): Promise<AreaAckStats[]> {
  // By the route's own creation time (indexed), not through referrals: joined to a month of referrals,
  // PostgreSQL chose to hash every route (400 ms at 1M rows).
  const rows = await db
    .selectFrom('routes')
    .select((eb) => [
      'authority_id',
      'team_id',
      count(db),
      eb.fn
        .countAll<number | string | bigint>()
        .filterWhere(sql`coalesce(acknowledged_at, ${at})`, '>', eb.ref('ack_by'))
        .as('breaches'),
      eb.fn
        .countAll<number | string | bigint>()
        .filterWhere((w) => w.and([w('acknowledged_at', 'is', null), w('ack_by', '>=', at)]))
        .as('waiting'),
      // NULL for an unacknowledged route, which string_agg skips.
      sql<string | null>`string_agg(created_at || ' ' || acknowledged_at, ',')`.as('acknowledged'),
    ])
    .where('created_at', '>=', since)
    .groupBy(['authority_id', 'team_id'])
    .execute();
  return ackStatsByTeam(
    rows.map((r) => ({
      authorityId: r.authority_id,
      teamId: r.team_id,
      routes: Number(r.n),
      breaches: Number(r.breaches),
      waiting: Number(r.waiting),
      acknowledged: r.acknowledged,
    })),
  );
}

/**
 * Referrals received per UTC hour since `since`, and how many of each hour's are now finished, by
 * status: one read of the (received_at, status) index gives the daily volume and the finished
 * referrals, where two reads were a fifth of PostgreSQL's time. Counted in the database: a month of
 * a large region is thousands of rows, a month of hours 700.
 */
async function receivedByHour(db: Kysely<Database>, since: string) {
  // Timestamps are stored as toISOString() writes them, so the first 13 characters are the UTC hour.
  const hour = sql<string>`substr(received_at, 1, 13)`;
  const rows = await db
    .selectFrom('referrals')
    .select((eb) => [
      hour.as('hour'),
      count(db),
      ...FINISHED_REFERRAL_STATUSES.map((status) =>
        eb.fn.countAll<number | string | bigint>().filterWhere('status', '=', status).as(status),
      ),
    ])
    .where('received_at', '>=', since)
    .groupBy(hour)
    .execute();
  return rows.map((r) => ({
    hour: r.hour,
    count: Number(r.n),
    finished: FINISHED_REFERRAL_STATUSES.map((status) => Number(r[status])),
  }));
}

/** Finished referrals by status over the hours from `since` (a London midnight, so a whole UTC hour). */
function finishedSince(received: Awaited<ReturnType<typeof receivedByHour>>, since: string) {
  const first = since.slice(0, 13);
  const totals = FINISHED_REFERRAL_STATUSES.map(() => 0);
  for (const { hour, finished } of received) {
    if (hour >= first) finished.forEach((n, i) => (totals[i]! += n));
  }
  return new Map(
    FINISHED_REFERRAL_STATUSES.map((status, i) => [status, totals[i]!] as const).filter(([, n]) => n > 0),
  );
}
