import type { Kysely, Updateable } from 'kysely';
import type { Database } from '../db/schema.ts';
import { appendAudit } from '../governance/audit.ts';
import { insertEvent, refreshStatus } from '../referrals/referral.repository.ts';
import type { DeliveryTable } from './delivery.table.ts';
import { assertTransition, canTransition, type DeliveryState } from './delivery.states.ts';

export interface AttemptRecord {
  worker: string;
  startedAt: Date;
  durationMs: number;
  outcome: string;
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
  await trx
    .insertInto('delivery_attempts')
    .values({
      delivery_id: deliveryId,
      worker: a.worker,
      started_at: a.startedAt.toISOString(),
      finished_at: new Date(a.startedAt.getTime() + a.durationMs).toISOString(),
      duration_ms: a.durationMs,
      outcome: a.outcome,
      detail: a.detail.slice(0, 1000),
    })
    .execute();
}
