import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import type { DeliveryState } from '../db/codes.ts';
import { canTransition } from '../records/delivery.states.ts';
import { transitionDelivery } from '../records/delivery.transitions.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { resolveEscalationIn } from '../records/escalation.service.ts';

export interface TestAlertAckBy {
  /** The person who acknowledged, as they gave it. */
  name: string;
  actor: string;
}

export interface TestAlertAckResult {
  /** False when it had already been acknowledged: a second acknowledgement changes nothing. */
  acknowledged: boolean;
  testAlertId: string;
  teamId: string;
  acknowledgedAt: string;
  by: string;
}

/**
 * Acknowledges the test alert carried by one delivery: proof that a person reads that address.
 * Like a referral, the first acknowledgement wins and a repeat is a no-op.
 */
export async function acknowledgeTestAlert(
  ctx: RelayContext,
  deliveryId: string,
  by: TestAlertAckBy,
): Promise<TestAlertAckResult> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const alert = await findAlert(trx, deliveryId);
    if (!alert) throw new RelayError('not-found', 'No test alert was sent with that delivery');
    const result = { testAlertId: alert.id, teamId: alert.team_id };
    if (alert.acknowledged_at) return { ...result, ...earlier(alert) };
    const updated = await trx
      .updateTable('test_alerts')
      .set({ acknowledged_at: at, acknowledged_by: by.name })
      .where('id', '=', alert.id)
      .where('acknowledged_at', 'is', null)
      .executeTakeFirst();
    // Someone else's acknowledgement committed between the read and the update: theirs stands.
    if (updated.numUpdatedRows === 0n) return { ...result, ...earlier(await findAlert(trx, deliveryId)) };
    await acknowledgeAlertDelivery(trx, deliveryId, alert.id, by.actor, now);
    // The person's name stays out of the audit log, which outlives personal-data retention.
    await appendAudit(trx, now, {
      actor: by.actor,
      action: 'test-alert.acknowledged',
      entityType: 'test_alert',
      entityId: alert.id,
      detail: { team: alert.team_id, delivery: deliveryId },
    });
    await resolveAddressEscalations(trx, alert.team_id, alert.address, by.name, now);
    return { ...result, acknowledged: true, acknowledgedAt: at, by: by.name };
  });
}

function findAlert(trx: Kysely<Database>, deliveryId: string) {
  return trx.selectFrom('test_alerts').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
}

function earlier(alert: { acknowledged_at: string | null; acknowledged_by: string | null } | undefined) {
  return {
    acknowledged: false,
    acknowledgedAt: alert?.acknowledged_at ?? '',
    by: alert?.acknowledged_by ?? 'unknown',
  };
}

async function acknowledgeAlertDelivery(
  trx: Kysely<Database>,
  deliveryId: string,
  testAlertId: string,
  actor: string,
  now: Date,
): Promise<void> {
  const delivery = await trx
    .selectFrom('deliveries')
    .select('state')
    .where('id', '=', deliveryId)
    .executeTakeFirstOrThrow();
  if (!canTransition(delivery.state as DeliveryState, 'acknowledged')) return;
  await transitionDelivery(trx, {
    deliveryId,
    to: 'acknowledged',
    now,
    actor,
    set: { acknowledged_at: now.toISOString() },
    detail: { testAlert: testAlertId },
  });
}

/** A person read this address, so its open "test alert not acknowledged" escalations have their answer. */
async function resolveAddressEscalations(
  trx: Kysely<Database>,
  teamId: string,
  address: string,
  name: string,
  now: Date,
): Promise<void> {
  const open = await trx
    .selectFrom('escalations')
    .select(['id', 'detail'])
    .where('reason', '=', 'test-alert-unacknowledged')
    .where('team_id', '=', teamId)
    .where('state', '!=', 'resolved')
    .execute();
  for (const e of open) {
    if ((JSON.parse(e.detail) as { address?: unknown }).address !== address) continue;
    await resolveEscalationIn(
      trx,
      e.id,
      `Test alert acknowledged by link (${name})`,
      { name: 'Relay', actor: 'system' },
      now,
    );
  }
}
