import { sql, type Kysely, type Updateable } from 'kysely';
import type { Database } from '../db/schema.ts';
import { appendAudit, appendAuditEntries } from './audit.ts';
import { insertEvent, refreshStatus, refreshStatuses } from './referral.repository.ts';
import type { AttemptKind, DeliveryState } from '../db/codes.ts';
import type { DeliveryTable } from '../db/tables/delivery.table.ts';
import { assertTransition, canTransition } from './delivery.states.ts';
import { insertRows } from '../db/insert-rows.ts';

export interface AttemptRecord {
  worker: string;
  startedAt: Date;
  durationMs: number;
  outcome: AttemptKind;
  /** The SMTP reply or HTTP status: never message content. */
  detail: string;
}

export interface Transition {
  deliveryId: string;
  to: DeliveryState;
  now: Date;
  /** `worker:<id>`, `bounce-listener`, `user:<id>`, `system`. */
  actor: string;
  /** When given, only the worker holding the lease may make this change. */
  leaseHolder?: string;
  set?: Omit<Updateable<DeliveryTable>, 'state' | 'id'>;
  attempt?: AttemptRecord;
  /** Ids, codes and reasons for the timeline and the audit log; never personal data. */
  detail?: Record<string, unknown>;
}

export type TransitionResult = 'done' | 'lease-lost' | 'not-allowed';

/**
 * The one way a delivery changes state: checks the transition is allowed (and, for a worker, that
 * it still holds the lease), and in the caller's transaction writes the row, the attempt, the
 * timeline event and the audit entry, then recomputes the referral's status.
 */
export async function transitionDelivery(trx: Kysely<Database>, t: Transition): Promise<TransitionResult> {
  const current = await trx
    .selectFrom('deliveries')
    .select(['state', 'locked_by', 'referral_id'])
    .where('id', '=', t.deliveryId)
    .executeTakeFirst();
  if (!current) throw new Error(`No delivery ${t.deliveryId}`);
  if (t.leaseHolder !== undefined && (current.locked_by !== t.leaseHolder || current.state !== 'sending')) {
    return 'lease-lost';
  }
  if (t.leaseHolder === undefined) assertTransition(current.state, t.to);
  else if (!canTransition(current.state as DeliveryState, t.to)) return 'not-allowed';

  const at = t.now.toISOString();
  const finishing = t.to !== 'sending';
  let update = trx
    .updateTable('deliveries')
    .set({
      ...t.set,
      state: t.to,
      updated_at: at,
      ...(finishing ? { locked_by: null, lease_until: null } : {}),
    })
    .where('id', '=', t.deliveryId)
    .where('state', '=', current.state);
  if (t.leaseHolder !== undefined) update = update.where('locked_by', '=', t.leaseHolder);
  const result = await update.executeTakeFirst();
  if (result.numUpdatedRows === 0n) return 'lease-lost';

  if (t.attempt) await recordAttempt(trx, t.deliveryId, t.attempt);
  const detail = { delivery: t.deliveryId, from: current.state, ...t.detail };
  if (current.referral_id) {
    await insertEvent(trx, {
      referral_id: current.referral_id,
      at,
      kind: `delivery-${t.to}`,
      actor: t.actor,
      detail: JSON.stringify(detail),
    });
  }
  await appendAudit(trx, t.now, {
    actor: t.actor,
    action: `delivery.${t.to}`,
    entityType: 'delivery',
    entityId: t.deliveryId,
    detail: { referral: current.referral_id, ...detail },
  });
  if (current.referral_id) await refreshStatus(trx, current.referral_id, t.now);
  return 'done';
}

async function recordAttempt(trx: Kysely<Database>, deliveryId: string, a: AttemptRecord): Promise<void> {
  await trx.insertInto('delivery_attempts').values(attemptRow(deliveryId, a)).execute();
}

function attemptRow(deliveryId: string, a: AttemptRecord) {
  return {
    delivery_id: deliveryId,
    worker: a.worker,
    started_at: a.startedAt.toISOString(),
    finished_at: new Date(a.startedAt.getTime() + a.durationMs).toISOString(),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    detail: a.detail.slice(0, 1000),
  };
}

/**
 * The columns an UPDATE sets for a group of outcomes of one kind: a value they share as it is, and
 * a value that differs (each one's `sent_at`, each retry's time) as a CASE on the delivery's id.
 */
function groupValues(group: WorkerOutcome[]) {
  const first = group[0] as WorkerOutcome;
  const values: Record<string, unknown> = { state: first.to };
  for (const column of Object.keys(first.set) as (keyof WorkerOutcome['set'])[]) {
    const each = group.map((o) => o.set[column] ?? null);
    values[column] = each.every((v) => v === each[0])
      ? each[0]
      : sql`case ${sql.ref('id')} ${sql.join(
          group.map((o, i) => sql`when ${o.deliveryId} then ${each[i]}`),
          sql` `,
        )} end`;
  }
  return values as Updateable<DeliveryTable>;
}

/** A worker's outcome for one delivery it claimed: `sending` to `sent`, `retrying` or `failed`. */
export interface WorkerOutcome {
  deliveryId: string;
  to: 'sent' | 'retrying' | 'failed';
  set: Omit<Updateable<DeliveryTable>, 'state' | 'id'>;
  attempt: AttemptRecord;
  detail: Record<string, unknown>;
}

/**
 * The worker's outcomes for several deliveries in the caller's transaction: for each delivery the
 * worker still holds, the same writes as `transitionDelivery` (row, attempt, timeline event, audit
 * entry, referral status), but as a handful of statements for the whole batch. One transaction per
 * batch is the group commit that lets the dispatcher keep up with the SMTP server: one durable
 * commit for many messages instead of one per message. A delivery whose lease was taken over is
 * left alone and reported `lease-lost`, as `transitionDelivery` would.
 */
export async function transitionClaimed(
  trx: Kysely<Database>,
  worker: string,
  now: Date,
  outcomes: WorkerOutcome[],
): Promise<Map<string, TransitionResult>> {
  const results = new Map<string, TransitionResult>(outcomes.map((o) => [o.deliveryId, 'lease-lost']));
  if (outcomes.length === 0) return results;
  const at = now.toISOString();
  const referralOf = new Map<string, string | null>();
  // Outcomes of the same kind share one UPDATE (every `sent` of a batch, say).
  const groups = new Map<string, WorkerOutcome[]>();
  for (const o of outcomes) {
    const key = JSON.stringify([o.to, Object.keys(o.set).sort()]);
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  for (const group of groups.values()) {
    const updated = await trx
      .updateTable('deliveries')
      .set({ ...groupValues(group), updated_at: at, locked_by: null, lease_until: null })
      .where(
        'id',
        'in',
        group.map((o) => o.deliveryId),
      )
      .where('state', '=', 'sending')
      .where('locked_by', '=', worker)
      .returning(['id', 'referral_id'])
      .execute();
    for (const row of updated) referralOf.set(row.id, row.referral_id);
  }
  const done = outcomes.filter((o) => referralOf.has(o.deliveryId));
  if (done.length === 0) return results;

  const detailOf = (o: WorkerOutcome) => ({ delivery: o.deliveryId, from: 'sending', ...o.detail });
  await insertRows(
    trx,
    'delivery_attempts',
    done.map((o) => attemptRow(o.deliveryId, o.attempt)),
  );
  const events = done.flatMap((o) => {
    const referralId = referralOf.get(o.deliveryId);
    return referralId
      ? [
          {
            referral_id: referralId,
            at,
            kind: `delivery-${o.to}`,
            actor: `worker:${worker}`,
            detail: JSON.stringify(detailOf(o)),
          },
        ]
      : [];
  });
  await insertRows(trx, 'referral_events', events);
  await appendAuditEntries(
    trx,
    now,
    done.map((o) => ({
      actor: `worker:${worker}`,
      action: `delivery.${o.to}`,
      entityType: 'delivery',
      entityId: o.deliveryId,
      detail: { referral: referralOf.get(o.deliveryId) ?? null, ...detailOf(o) },
    })),
  );
  const referralIds = done.flatMap((o) => referralOf.get(o.deliveryId) ?? []);
  await refreshStatuses(trx, referralIds, now);
  for (const o of done) results.set(o.deliveryId, 'done');
  return results;
}
