import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ReferralEventTable, ReferralTable, RouteTable, TriageItemTable } from './referral.table.ts';
import { deriveStatus, type ReferralStatus } from './referral.status.ts';

export type ReferralRow = Selectable<ReferralTable>;
export type RouteRow = Selectable<RouteTable>;
export type TriageRow = Selectable<TriageItemTable>;

export async function findBySource(
  db: Kysely<Database>,
  system: string,
  reference: string,
): Promise<ReferralRow | undefined> {
  return db
    .selectFrom('referrals')
    .selectAll()
    .where('source_system', '=', system)
    .where('source_reference', '=', reference)
    .executeTakeFirst();
}

/** By id, or by the human reference (SR-YYYY-NNNNNN) that people quote on the phone. */
export async function findReferral(
  db: Kysely<Database>,
  idOrReference: string,
): Promise<ReferralRow | undefined> {
  const column = idOrReference.startsWith('SR-') ? 'reference' : 'id';
  return db.selectFrom('referrals').selectAll().where(column, '=', idOrReference).executeTakeFirst();
}

export async function isRoutedTo(db: Kysely<Database>, referralId: string, teamId: string): Promise<boolean> {
  const row = await db
    .selectFrom('routes')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertReferrals(
  trx: Kysely<Database>,
  rows: Insertable<ReferralTable>[],
): Promise<void> {
  if (rows.length > 0) await trx.insertInto('referrals').values(rows).execute();
}

export async function insertRoutes(trx: Kysely<Database>, rows: Insertable<RouteTable>[]): Promise<void> {
  if (rows.length > 0) await trx.insertInto('routes').values(rows).execute();
}

export async function insertTriageItems(
  trx: Kysely<Database>,
  rows: Insertable<TriageItemTable>[],
): Promise<void> {
  if (rows.length > 0) await trx.insertInto('triage_items').values(rows).execute();
}

export type NewEvent = Omit<Insertable<ReferralEventTable>, 'id'>;

export async function insertEvent(trx: Kysely<Database>, event: NewEvent): Promise<void> {
  await insertEvents(trx, [event]);
}

export async function insertEvents(trx: Kysely<Database>, events: NewEvent[]): Promise<void> {
  if (events.length > 0) await trx.insertInto('referral_events').values(events).execute();
}

export async function routesOf(db: Kysely<Database>, referralId: string): Promise<RouteRow[]> {
  return db
    .selectFrom('routes')
    .selectAll()
    .where('referral_id', '=', referralId)
    .orderBy('position')
    .execute();
}

export async function triageOf(db: Kysely<Database>, referralId: string): Promise<TriageRow[]> {
  return db
    .selectFrom('triage_items')
    .selectAll()
    .where('referral_id', '=', referralId)
    .orderBy('created_at')
    .execute();
}

export async function eventsOf(db: Kysely<Database>, referralId: string) {
  return db
    .selectFrom('referral_events')
    .selectAll()
    .where('referral_id', '=', referralId)
    .orderBy('id')
    .execute();
}

export async function acknowledgementsOf(db: Kysely<Database>, referralId: string) {
  return db
    .selectFrom('acknowledgements')
    .selectAll()
    .where('referral_id', '=', referralId)
    .orderBy('at')
    .execute();
}

export async function escalationsOf(db: Kysely<Database>, referralId: string) {
  return db
    .selectFrom('escalations')
    .selectAll()
    .where('referral_id', '=', referralId)
    .orderBy('opened_at')
    .execute();
}

/** Recomputes the stored status from the referral's parts; call it in the transaction that changed them. */
export async function refreshStatus(
  trx: Kysely<Database>,
  referralId: string,
  now: Date,
): Promise<ReferralStatus> {
  const statuses = await refreshStatuses(trx, [referralId], now);
  const status = statuses.get(referralId);
  if (!status) throw new Error(`No referral ${referralId}`);
  return status;
}

/**
 * `refreshStatus` for several referrals with five reads whatever their number: the dispatcher
 * records a batch of outcomes in one transaction and must not pay five round trips per delivery.
 */
export async function refreshStatuses(
  trx: Kysely<Database>,
  referralIds: string[],
  now: Date,
): Promise<Map<string, ReferralStatus>> {
  const ids = [...new Set(referralIds)];
  const statuses = new Map<string, ReferralStatus>();
  if (ids.length === 0) return statuses;
  const referrals = await trx
    .selectFrom('referrals')
    .select(['id', 'status', 'closed_at'])
    .where('id', 'in', ids)
    .execute();
  const routes = await trx
    .selectFrom('routes')
    .select(['id', 'referral_id', 'acknowledged_at'])
    .where('referral_id', 'in', ids)
    .execute();
  const openTriage = await trx
    .selectFrom('triage_items')
    .select('referral_id')
    .where('referral_id', 'in', ids)
    .where('resolved_at', 'is', null)
    .execute();
  const deliveries = await trx
    .selectFrom('deliveries')
    .select(['referral_id', 'route_id', 'state'])
    .where('referral_id', 'in', ids)
    .where('purpose', '=', 'referral')
    .execute();
  const escalations = await trx
    .selectFrom('escalations')
    .select('referral_id')
    .where('referral_id', 'in', ids)
    .where('state', '!=', 'resolved')
    .execute();
  const changed = new Map<ReferralStatus, string[]>();
  for (const referral of referrals) {
    const id = referral.id;
    const status = deriveStatus({
      closed: referral.closed_at !== null,
      openEscalations: escalations.filter((e) => e.referral_id === id).length,
      openTriage: openTriage.some((t) => t.referral_id === id),
      routes: routes
        .filter((r) => r.referral_id === id)
        .map((r) => ({ id: r.id, acknowledged: r.acknowledged_at !== null })),
      deliveries: deliveries
        .filter((d) => d.referral_id === id)
        .map((d) => ({ routeId: d.route_id, state: d.state })),
    });
    statuses.set(id, status);
    if (status !== referral.status) changed.set(status, [...(changed.get(status) ?? []), id]);
  }
  for (const [status, changedIds] of changed) {
    await trx
      .updateTable('referrals')
      .set({ status, updated_at: now.toISOString() })
      .where('id', 'in', changedIds)
      .execute();
  }
  return statuses;
}

export interface ListFilter {
  status?: string;
  updatedSince?: string;
  after?: { updatedAt: string; id: string };
  limit: number;
  /** Restricts a source system's key to the referrals it raised. */
  raisedBy?: { keyId: string; sourceSystem: string | null };
  /** Restricts a team's key to the referrals routed to its team. */
  routedTo?: string;
}

export async function listReferrals(db: Kysely<Database>, filter: ListFilter): Promise<ReferralRow[]> {
  let query = db.selectFrom('referrals').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.updatedSince) query = query.where('updated_at', '>=', filter.updatedSince);
  if (filter.after) {
    const { updatedAt, id } = filter.after;
    query = query.where((eb) =>
      eb.or([
        eb('updated_at', '>', updatedAt),
        eb.and([eb('updated_at', '=', updatedAt), eb('id', '>', id)]),
      ]),
    );
  }
  const raisedBy = filter.raisedBy;
  if (raisedBy) {
    query = query.where((eb) =>
      raisedBy.sourceSystem
        ? eb.or([eb('raised_by_key', '=', raisedBy.keyId), eb('source_system', '=', raisedBy.sourceSystem)])
        : eb('raised_by_key', '=', raisedBy.keyId),
    );
  }
  const team = filter.routedTo;
  if (team) {
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('routes').select('referral_id').where('team_id', '=', team),
    );
  }
  return query.orderBy('updated_at').orderBy('id').limit(filter.limit).execute();
}
