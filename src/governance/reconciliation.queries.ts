import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { RelayReferral, RelayRoute } from './reconciliation.compare.ts';

/** Well under SQLite's and PostgreSQL's limits on bound parameters, for files of any length. */
const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function referralColumns(db: Kysely<Database>) {
  return db
    .selectFrom('referrals')
    .select([
      'id',
      'reference',
      'source_system as sourceSystem',
      'source_reference as sourceReference',
      'received_at as receivedAt',
      'closed_at as closedAt',
    ]);
}

/** Relay's referrals for these references of one source system (by its unique source key). */
export async function referralsBySource(
  db: Kysely<Database>,
  system: string,
  references: string[],
): Promise<RelayReferral[]> {
  const found: RelayReferral[] = [];
  for (const part of chunks(references)) {
    found.push(
      ...(await referralColumns(db)
        .where('source_system', '=', system)
        .where('source_reference', 'in', part)
        .execute()),
    );
  }
  return found;
}

export async function referralsReceivedIn(
  db: Kysely<Database>,
  systems: string[],
  period: { from: string; to: string },
): Promise<RelayReferral[]> {
  if (systems.length === 0) return [];
  return referralColumns(db)
    .where('source_system', 'in', systems)
    .where('received_at', '>=', period.from)
    .where('received_at', '<=', period.to)
    .orderBy('received_at')
    .execute();
}

export async function routesOfReferrals(db: Kysely<Database>, referralIds: string[]): Promise<RelayRoute[]> {
  const routes: RelayRoute[] = [];
  for (const part of chunks(referralIds)) {
    routes.push(
      ...(await db
        .selectFrom('routes')
        .select([
          'referral_id as referralId',
          'team_id as teamId',
          'ack_by as ackBy',
          'acknowledged_at as acknowledgedAt',
        ])
        .where('referral_id', 'in', part)
        .orderBy('position')
        .execute()),
    );
  }
  return routes;
}

/** The source systems Relay received referrals from in the period. */
export async function systemsReceivedIn(
  db: Kysely<Database>,
  period: { from: string; to: string },
): Promise<string[]> {
  const rows = await db
    .selectFrom('referrals')
    .select('source_system')
    .distinct()
    .where('received_at', '>=', period.from)
    .where('received_at', '<=', period.to)
    .orderBy('source_system')
    .execute();
  return rows.map((r) => r.source_system);
}

/** A system Relay has heard of: it raised a referral, or a key was issued for it. */
export async function isKnownSystem(db: Kysely<Database>, system: string): Promise<boolean> {
  const referral = await db
    .selectFrom('referrals')
    .select('id')
    .where('source_system', '=', system)
    .limit(1)
    .executeTakeFirst();
  if (referral) return true;
  const key = await db
    .selectFrom('api_keys')
    .select('id')
    .where('source_system', '=', system)
    .limit(1)
    .executeTakeFirst();
  return key !== undefined;
}

export async function insertRun(
  trx: Kysely<Database>,
  run: { id: string; ranAt: string; actor: string; summary: unknown; report: unknown },
): Promise<void> {
  await trx
    .insertInto('reconciliation_runs')
    .values({
      id: run.id,
      ran_at: run.ranAt,
      actor: run.actor,
      summary: JSON.stringify(run.summary),
      report: JSON.stringify(run.report),
    })
    .execute();
}

export async function findRun(db: Kysely<Database>, id: string) {
  return db.selectFrom('reconciliation_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function recentRuns(db: Kysely<Database>, limit: number) {
  return db
    .selectFrom('reconciliation_runs')
    .select(['id', 'ran_at', 'actor', 'summary'])
    .orderBy('ran_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}
