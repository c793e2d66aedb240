import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import type { DeliveryState } from '../db/codes.ts';
import { canTransition } from '../records/delivery.states.ts';
import { transitionDelivery } from '../records/delivery.transitions.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { insertEvent, refreshStatus } from '../records/referral.repository.ts';
import { ownRouteOf } from './cover-receipt.ts';
import { selectRouteFacts } from './route.facts.ts';
import { resolveForAcknowledgement } from '../records/escalation.service.ts';

export const ACK_METHODS = ['link', 'inbox', 'api', 'phone'] as const;
export type AckMethod = (typeof ACK_METHODS)[number];

export interface AckBy {
  method: AckMethod;
  /** The person who acknowledged, as they gave it (or the team system's key name). */
  name: string;
  actor: string;
  userId?: string;
  keyId?: string;
}

export interface AckResult {
  /** False when the team had already acknowledged: a second acknowledgement changes nothing. */
  acknowledged: boolean;
  referralId: string;
  reference: string;
  teamId: string;
  acknowledgedAt: string;
  by: string;
}

/** Acknowledges a referral for one team: one person at the team now has it. */
export async function acknowledgeForTeam(
  ctx: RelayContext,
  referralId: string,
  teamId: string,
  by: AckBy,
): Promise<AckResult> {
  const route = await ctx.db.kysely
    .selectFrom('routes')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .executeTakeFirst();
  if (!route) throw new RelayError('not-found', 'That referral was not routed to this team');
  return acknowledgeRoute(ctx, route.id, by);
}

/**
 * The delivery behind a link: acknowledging it acknowledges its own team's copy of the referral
 * (ownRouteOf), so an out-of-hours team's cover link records the out-of-hours team's receipt.
 */
export async function acknowledgeDelivery(
  ctx: RelayContext,
  deliveryId: string,
  by: AckBy,
): Promise<AckResult> {
  const delivery = await ctx.db.kysely
    .selectFrom('deliveries')
    .select(['id', 'referral_id', 'route_id', 'team_id', 'created_at'])
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery?.route_id || !delivery.referral_id)
    throw new RelayError('not-found', 'No referral delivery with that id');
  const found = { ...delivery, route_id: delivery.route_id, referral_id: delivery.referral_id };
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const routeId = await ownRouteOf(trx, ctx, found);
    const cover =
      routeId === delivery.route_id ? {} : { coverFor: await teamOfRoute(trx, delivery.route_id) };
    return acknowledgeRouteIn(trx, routeId, by, now, deliveryId, cover);
  });
}

async function teamOfRoute(trx: Kysely<Database>, routeId: string | null): Promise<string | undefined> {
  if (!routeId) return undefined;
  const row = await trx.selectFrom('routes').select('team_id').where('id', '=', routeId).executeTakeFirst();
  return row?.team_id;
}

export async function acknowledgeRoute(
  ctx: RelayContext,
  routeId: string,
  by: AckBy,
  deliveryId?: string,
): Promise<AckResult> {
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute((trx) => acknowledgeRouteIn(trx, routeId, by, now, deliveryId));
}

/** The acknowledgement inside a caller's transaction, so it can commit together with other changes. */
export async function acknowledgeRouteIn(
  trx: Kysely<Database>,
  routeId: string,
  by: AckBy,
  now: Date,
  deliveryId?: string,
  /** For a cover receipt: the closed team it covered for, shown on the timeline. */
  extra: { coverFor?: string } = {},
): Promise<AckResult> {
  const route = await selectRouteFacts(trx).where('routes.id', '=', routeId).executeTakeFirstOrThrow();
  const result = { referralId: route.referral_id, reference: route.reference, teamId: route.team_id };
  if (route.acknowledged_at)
    return { ...result, ...(await existingAck(trx, routeId, route.acknowledged_at)) };
  const at = now.toISOString();
  const updated = await trx
    .updateTable('routes')
    .set({ acknowledged_at: at })
    .where('id', '=', routeId)
    .where('acknowledged_at', 'is', null)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) return { ...result, ...(await existingAck(trx, routeId, at)) };
  await trx
    .insertInto('acknowledgements')
    .values({
      id: randomUUID(),
      referral_id: route.referral_id,
      route_id: routeId,
      team_id: route.team_id,
      delivery_id: deliveryId ?? null,
      at,
      method: by.method,
      by_name: by.name,
      by_user: by.userId ?? null,
      by_key: by.keyId ?? null,
    })
    .execute();
  await markDeliveriesAcknowledged(trx, route, by, now);
  await resolveForAcknowledgement(
    trx,
    route.referral_id,
    route.team_id,
    `Acknowledged by ${by.method} (${by.name})`,
    now,
  );
  const detail = { team: route.team_id, method: by.method, delivery: deliveryId ?? null, ...extra };
  await insertEvent(trx, {
    referral_id: route.referral_id,
    at,
    kind: 'acknowledged',
    actor: by.actor,
    detail: JSON.stringify(detail),
  });
  await appendAudit(trx, now, {
    actor: by.actor,
    action: 'route.acknowledged',
    entityType: 'route',
    entityId: routeId,
    detail: { referral: route.referral_id, ...detail },
  });
  await refreshStatus(trx, route.referral_id, now);
  return { ...result, acknowledged: true, acknowledgedAt: at, by: by.name };
}

async function existingAck(trx: Kysely<Database>, routeId: string, at: string) {
  const ack = await trx
    .selectFrom('acknowledgements')
    .select(['at', 'by_name'])
    .where('route_id', '=', routeId)
    .orderBy('at')
    .executeTakeFirst();
  return { acknowledged: false, acknowledgedAt: ack?.at ?? at, by: ack?.by_name ?? 'unknown' };
}

/**
 * Every copy of the referral to that team stops: nothing left to send, retry or escalate. Copies are
 * the team's own (by team, not route), so a closed day team's acknowledgement leaves its
 * out-of-hours cover alert alone, and the cover team's acknowledgement takes in that alert.
 */
async function markDeliveriesAcknowledged(
  trx: Kysely<Database>,
  route: { referral_id: string; team_id: string },
  by: AckBy,
  now: Date,
) {
  const deliveries = await trx
    .selectFrom('deliveries')
    .select(['id', 'state'])
    .where('referral_id', '=', route.referral_id)
    .where('team_id', '=', route.team_id)
    .execute();
  for (const d of deliveries) {
    if (!canTransition(d.state as DeliveryState, 'acknowledged')) continue;
    await transitionDelivery(trx, {
      deliveryId: d.id,
      to: 'acknowledged',
      now,
      actor: by.actor,
      set: { acknowledged_at: now.toISOString() },
      detail: { method: by.method },
    });
  }
}
