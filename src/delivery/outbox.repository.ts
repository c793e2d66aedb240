import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { appendAuditEntries } from '../records/audit.ts';
import type { DeliveryTable } from '../db/tables/delivery.table.ts';

export type DeliveryRow = Selectable<DeliveryTable>;

/**
 * The predicate of the partial index deliveries_claimable (migration 20261125153000), word for word
 * and with literals, not parameters: SQLite uses a partial index only for a query whose terms match
 * its predicate when the statement is prepared.
 */
const CLAIMABLE = sql<boolean>`state in ('queued', 'retrying', 'sending')`;

/**
 * Claims up to `limit` due deliveries for `worker` in one statement: queued or retrying ones whose
 * time has come, and sending ones whose worker's lease ran out (it died or hung). On PostgreSQL,
 * SKIP LOCKED lets workers on several nodes claim side by side without waiting on each other.
 */
export async function claimDue(
  db: Kysely<Database>,
  dialect: Dialect,
  worker: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<DeliveryRow[]> {
  return db.transaction().execute((trx) => claimDueIn(trx, dialect, worker, now, leaseMs, limit));
}

/** `claimDue` inside the caller's transaction: the dispatcher claims in the same commit as outcomes. */
export async function claimDueIn(
  trx: Kysely<Database>,
  dialect: Dialect,
  worker: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<DeliveryRow[]> {
  const at = now.toISOString();
  {
    // Through the partial index deliveries_claimable, in due order, reading only what it takes. A
    // claim moves a row's next attempt to its lease's end, so the rows being sent now sit behind
    // the due ones instead of in front of them, where every claim in a burst stepped over them all.
    // (A row claimed before that rule holds its old time and is passed over by the lease test.)
    let due = trx
      .selectFrom('deliveries')
      .select('id')
      .where(CLAIMABLE)
      .where('next_attempt_at', '<=', at)
      .where((eb) => eb.or([eb('state', 'in', ['queued', 'retrying']), eb('lease_until', '<', at)]))
      .orderBy('next_attempt_at')
      .limit(limit);
    if (dialect === 'postgres') due = due.forUpdate().skipLocked();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    const claimed = await trx
      .updateTable('deliveries')
      .set((eb) => ({
        state: 'sending',
        locked_by: worker,
        lease_until: leaseUntil,
        next_attempt_at: leaseUntil,
        attempts: eb('attempts', '+', 1),
        updated_at: at,
      }))
      .where('id', 'in', due)
      .returningAll()
      .execute();
    await appendAuditEntries(
      trx,
      now,
      claimed.map((row) => ({
        actor: `worker:${worker}`,
        action: 'delivery.sending',
        entityType: 'delivery',
        entityId: row.id,
        detail: { referral: row.referral_id, attempt: row.attempts },
      })),
    );
    return claimed;
  }
}

export async function findDelivery(db: Kysely<Database>, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Gives back deliveries this worker claimed but never started (it is shutting down): the lease ends
 * now, so any other worker claims them at its next pass rather than after DELIVERY_LEASE, and the
 * attempt the claim counted is taken back, since nothing was sent. Returns how many were released.
 */
export async function releaseClaims(
  db: Kysely<Database>,
  worker: string,
  ids: string[],
  now: Date,
): Promise<number> {
  if (ids.length === 0) return 0;
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const released = await trx
      .updateTable('deliveries')
      .set((eb) => ({
        lease_until: at,
        next_attempt_at: at,
        locked_by: null,
        attempts: eb('attempts', '-', 1),
        updated_at: at,
      }))
      .where('id', 'in', ids)
      .where('state', '=', 'sending')
      .where('locked_by', '=', worker)
      .returning(['id', 'referral_id', 'attempts'])
      .execute();
    await appendAuditEntries(
      trx,
      now,
      released.map((row) => ({
        actor: `worker:${worker}`,
        action: 'delivery.released',
        entityType: 'delivery',
        entityId: row.id,
        detail: { referral: row.referral_id, reason: 'worker stopping before the send began' },
      })),
    );
    return released.length;
  });
}
