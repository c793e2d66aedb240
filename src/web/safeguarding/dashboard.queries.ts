import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import {
  FINISHED_DELIVERY_STATES,
  FINISHED_REFERRAL_STATUSES,
  OPEN_DELIVERY_STATES,
  OPEN_REFERRAL_STATUSES,
} from '../../assurance/open-work.ts';
import { londonToInstant } from '../../directory/hours.ts';
import { DAY } from '../../time.ts';
import { firstDayOf } from './dashboard.stats.ts';

/**
 * What the safeguarding dashboard reads. Open work is counted exactly, however old; finished work
 * (the bulk of ten years) only over a recent period, so every query reads open rows or a recent
 * index range, never a whole table. Percentiles and London days are worked out in TypeScript, so
 * the same code answers on SQLite and PostgreSQL.
 */
export interface DashboardFacts {
  /** Every referral not yet acknowledged or closed, by status. */
  openReferrals: Map<string, number>;
  /** Every delivery not yet sent, or failed or bounced, by state. */
  openDeliveries: Map<string, number>;
  /** London date the finished-work period starts on: FINISHED_PERIOD_DAYS days up to and including today. */
  finishedFrom: string;
  /** Referrals received since the period's start that are now acknowledged or closed, by status. */
  finishedReferrals: Map<string, number>;
  /** Deliveries queued since the period's start that are now sent, acknowledged or cancelled, by state. */
  finishedDeliveries: Map<string, number>;
  escalations: { open: number; claimed: number };
  triage: { open: number; overdue: number };
  oldestUnacknowledged: OldestUnacknowledged | undefined;
  /** Routes created (teams sent a referral) in the last ACK_PERIOD_DAYS. */
  routes: { authorityId: string; createdAt: string; acknowledgedAt: string | null; ackBy: string }[];
  /** Referrals received per UTC hour ('YYYY-MM-DDTHH') in the last VOLUME_DAYS (and a day more, for the London offset). */
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

function tally(rows: { key: string; n: number | string | bigint }[]): Map<string, number> {
  return new Map(rows.map((r) => [r.key, Number(r.n)]));
}

export async function loadDashboardFacts(db: Kysely<Database>, now: Date): Promise<DashboardFacts> {
  const at = now.toISOString();
  const finishedFrom = firstDayOf(now, FINISHED_PERIOD_DAYS);
  const since = londonToInstant(finishedFrom, '00:00').toISOString();
  // One after another, so a busy dashboard holds one pooled connection, not nine.
  // Open work through the (status, updated_at) and (state, next_attempt_at) indexes: a few seeks.
  const openReferrals = await db
    .selectFrom('referrals')
    .select(['status as key', count(db)])
    .where('status', 'in', OPEN_REFERRAL_STATUSES)
    .groupBy('status')
    .execute();
  const openDeliveries = await db
    .selectFrom('deliveries')
    .select(['state as key', count(db)])
    .where('state', 'in', OPEN_DELIVERY_STATES)
    .groupBy('state')
    .execute();
  // Finished work over the period only, read from the (received_at, status) and (created_at, state) indexes.
  const finishedReferrals = await db
    .selectFrom('referrals')
    .select(['status as key', count(db)])
    .where('received_at', '>=', since)
    .where('status', 'in', FINISHED_REFERRAL_STATUSES)
    .groupBy('status')
    .execute();
  const finishedDeliveries = await db
    .selectFrom('deliveries')
    .select(['state as key', count(db)])
    .where('created_at', '>=', since)
    .where('state', 'in', FINISHED_DELIVERY_STATES)
    .groupBy('state')
    .execute();
  const escalations = tally(
    await db
      .selectFrom('escalations')
      .select(['state as key', count(db)])
      .where('state', 'in', ['open', 'claimed'])
      .groupBy('state')
      .execute(),
  );
  return {
    finishedFrom,
    openReferrals: tally(openReferrals),
    openDeliveries: tally(openDeliveries),
    finishedReferrals: tally(finishedReferrals),
    finishedDeliveries: tally(finishedDeliveries),
    escalations: { open: escalations.get('open') ?? 0, claimed: escalations.get('claimed') ?? 0 },
    triage: await triageCounts(db, at),
    oldestUnacknowledged: await oldestUnacknowledged(db),
    routes: await routesSince(db, new Date(now.getTime() - ACK_PERIOD_DAYS * DAY).toISOString()),
    receivedByHour: await receivedByHour(db, new Date(now.getTime() - (VOLUME_DAYS + 1) * DAY).toISOString()),
  };
}

async function triageCounts(db: Kysely<Database>, at: string) {
  const row = await db
    .selectFrom('triage_items')
    .select((eb) => [
      count(db),
      eb.fn
        .sum<number | string | null>(eb.case().when('triage_by', '<=', at).then(1).else(0).end())
        .as('overdue'),
    ])
    .where('resolved_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { open: Number(row.n), overdue: Number(row.overdue ?? 0) };
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

async function routesSince(db: Kysely<Database>, since: string) {
  // By the route's own creation time (indexed), not through referrals: joined to a month of referrals,
  // PostgreSQL chose to hash every route (400 ms at 1M rows). A month of a large region is still
  // thousands of rows; ranking them in SQL instead was slower on both engines (window sorts, and
  // PostgreSQL parsing each text timestamp).
  const rows = await db
    .selectFrom('routes')
    .select(['authority_id', 'created_at', 'acknowledged_at', 'ack_by'])
    .where('created_at', '>=', since)
    .execute();
  return rows.map((r) => ({
    authorityId: r.authority_id,
    createdAt: r.created_at,
    acknowledgedAt: r.acknowledged_at,
    ackBy: r.ack_by,
  }));
}

/** Counted by the hour in the database: a month of a large region is thousands of rows, a month of hours 700. */
async function receivedByHour(db: Kysely<Database>, since: string) {
  // Timestamps are stored as toISOString() writes them, so the first 13 characters are the UTC hour.
  const hour = sql<string>`substr(received_at, 1, 13)`;
  const rows = await db
    .selectFrom('referrals')
    .select([hour.as('hour'), count(db)])
    .where('received_at', '>=', since)
    .groupBy(hour)
    .execute();
  return rows.map((r) => ({ hour: r.hour, count: Number(r.n) }));
}
