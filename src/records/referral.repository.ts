import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type {
  ReferralEventTable,
  ReferralTable,
  RouteTable,
  TriageItemTable,
} from '../db/tables/referral.table.ts';
import { deriveStatus, type ReferralStatus, type StatusFacts } from './referral.status.ts';
import { insertRows } from '../db/insert-rows.ts';

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

/** What idempotency needs to know of a referral already accepted under a source reference. */
export type SourceMatch = Pick<
  ReferralRow,
  'id' | 'body_hash' | 'reference' | 'source_system' | 'source_reference'
>;

/**
 * The referrals already accepted under any of these source references, in one statement (a batch
 * of intakes checks its idempotency together): one index lookup per reference.
 */
export async function findBySources(
  db: Kysely<Database>,
  sources: { system: string; reference: string }[],
): Promise<SourceMatch[]> {
  if (sources.length === 0) return [];
  const bySystem = new Map<string, string[]>();
  for (const { system, reference } of sources) {
    const references = bySystem.get(system);
    if (references) references.push(reference);
    else bySystem.set(system, [reference]);
  }
  return db
    .selectFrom('referrals')
    .select(['id', 'body_hash', 'reference', 'source_system', 'source_reference'])
    .where((eb) =>
      eb.or(
        [...bySystem].map(([system, references]) =>
          eb.and([eb('source_system', '=', system), eb('source_reference', 'in', references)]),
        ),
      ),
    )
    .execute();
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
  await insertRows(trx, 'referrals', rows);
}

export async function insertRoutes(trx: Kysely<Database>, rows: Insertable<RouteTable>[]): Promise<void> {
  await insertRows(trx, 'routes', rows);
}

export async function insertTriageItems(
  trx: Kysely<Database>,
  rows: Insertable<TriageItemTable>[],
): Promise<void> {
  await insertRows(trx, 'triage_items', rows);
}

export type NewEvent = Omit<Insertable<ReferralEventTable>, 'id'>;

export async function insertEvent(trx: Kysely<Database>, event: NewEvent): Promise<void> {
  await insertEvents(trx, [event]);
}

export async function insertEvents(trx: Kysely<Database>, events: NewEvent[]): Promise<void> {
  await insertRows(trx, 'referral_events', events);
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
 * `refreshStatus` for several referrals with one read whatever their number: the dispatcher records
 * a batch of outcomes in one transaction and must not pay a round trip per part per delivery.
 */
export async function refreshStatuses(
  trx: Kysely<Database>,
  referralIds: string[],
  now: Date,
): Promise<Map<string, ReferralStatus>> {
  const ids = [...new Set(referralIds)];
  const statuses = new Map<string, ReferralStatus>();
  if (ids.length === 0) return statuses;
  const parts = await statusParts(trx, ids);
  const changed = new Map<ReferralStatus, string[]>();
  for (const id of ids) {
    const part = parts.get(id);
    if (!part) continue;
    const status = deriveStatus(part.facts);
    statuses.set(id, status);
    if (status !== part.stored) changed.set(status, [...(changed.get(status) ?? []), id]);
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

interface PartRow {
  kind: 'referral' | 'route' | 'delivery' | 'triage' | 'escalation';
  referral_id: string;
  a: string | null;
  b: string | null;
}

/**
 * Everything a status is derived from, for each referral, in one statement: a UNION of narrow reads,
 * each through its table's referral_id index. `a` and `b` are per kind: the stored status and
 * closed_at, a route's id and acknowledged_at, a delivery's route and state.
 */
async function statusParts(trx: Kysely<Database>, ids: string[]) {
  const list = sql.join(ids);
  const { rows } = await sql<PartRow>`
    select 'referral' as kind, id as referral_id, status as a, closed_at as b
      from referrals where id in (${list})
    union all select 'route', referral_id, id, acknowledged_at
      from routes where referral_id in (${list})
    union all select 'delivery', referral_id, route_id, state
      from deliveries where referral_id in (${list}) and purpose = 'referral'
    union all select 'triage', referral_id, null, null
      from triage_items where referral_id in (${list}) and resolved_at is null
    union all select 'escalation', referral_id, null, null
      from escalations where referral_id in (${list}) and state <> 'resolved'
  `.execute(trx);
  const parts = new Map<string, { stored: string; facts: StatusFacts }>();
  for (const row of rows.filter((r) => r.kind === 'referral')) {
    const facts = {
      closed: row.b !== null,
      openEscalations: 0,
      openTriage: false,
      routes: [],
      deliveries: [],
    };
    parts.set(row.referral_id, { stored: row.a ?? '', facts });
  }
  for (const row of rows) {
    const facts = parts.get(row.referral_id)?.facts;
    if (!facts) continue;
    if (row.kind === 'route') facts.routes.push({ id: row.a ?? '', acknowledged: row.b !== null });
    if (row.kind === 'delivery') facts.deliveries.push({ routeId: row.a, state: row.b ?? '' });
    if (row.kind === 'triage') facts.openTriage = true;
    if (row.kind === 'escalation') facts.openEscalations += 1;
  }
  return parts;
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
