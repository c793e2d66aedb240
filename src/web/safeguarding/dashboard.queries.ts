import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { DAY } from '../../time.ts';

/**
 * What the safeguarding dashboard reads. Counts are GROUP BY queries; the two period queries fetch
 * one or two timestamps per row for at most 30 days, and the percentiles and London-day buckets are
 * computed in TypeScript so the same code answers on SQLite and PostgreSQL.
 */
export interface DashboardFacts {
  referralsByStatus: Map<string, number>;
  deliveriesByState: Map<string, number>;
  escalations: { open: number; claimed: number };
  triage: { open: number; overdue: number };
  oldestUnacknowledged: OldestUnacknowledged | undefined;
  /** Routes of the referrals received in the last ACK_PERIOD_DAYS. */
  routes: { authorityId: string; createdAt: string; acknowledgedAt: string | null; ackBy: string }[];
  /** Receipt times of referrals in the last VOLUME_DAYS (and a day more, for the London offset). */
  receivedAt: string[];
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

const count = (db: Kysely<Database>) => db.fn.countAll<number | string | bigint>().as('n');

function tally(rows: { key: string; n: number | string | bigint }[]): Map<string, number> {
  return new Map(rows.map((r) => [r.key, Number(r.n)]));
}

export async function loadDashboardFacts(db: Kysely<Database>, now: Date): Promise<DashboardFacts> {
  const at = now.toISOString();
  // One after another, so a busy dashboard holds one pooled connection, not seven.
  const referrals = await db
    .selectFrom('referrals')
    .select(['status as key', count(db)])
    .groupBy('status')
    .execute();
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['state as key', count(db)])
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
    referralsByStatus: tally(referrals),
    deliveriesByState: tally(deliveries),
    escalations: { open: escalations.get('open') ?? 0, claimed: escalations.get('claimed') ?? 0 },
    triage: await triageCounts(db, at),
    oldestUnacknowledged: await oldestUnacknowledged(db),
    routes: await routesSince(db, new Date(now.getTime() - ACK_PERIOD_DAYS * DAY).toISOString()),
    receivedAt: await receivedSince(db, new Date(now.getTime() - (VOLUME_DAYS + 1) * DAY).toISOString()),
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
  const row = await db
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
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
  // Through the referral's indexed receipt time: routes have no index on their own creation time.
  const rows = await db
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
    .select(['routes.authority_id', 'routes.created_at', 'routes.acknowledged_at', 'routes.ack_by'])
    .where('referrals.received_at', '>=', since)
    .execute();
  return rows.map((r) => ({
    authorityId: r.authority_id,
    createdAt: r.created_at,
    acknowledgedAt: r.acknowledged_at,
    ackBy: r.ack_by,
  }));
}

async function receivedSince(db: Kysely<Database>, since: string): Promise<string[]> {
  const rows = await db
    .selectFrom('referrals')
    .select('received_at')
    .where('received_at', '>=', since)
    .execute();
  return rows.map((r) => r.received_at);
}
