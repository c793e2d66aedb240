import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AckMethod } from './acknowledgement.service.ts';
import type { DeadlinePolicy } from '../config.ts';
import { resolveForAcknowledgement } from '../records/escalation.service.ts';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { insertDeliveries } from '../records/delivery.repository.ts';
import type { DeliveryState } from '../db/codes.ts';
import { canTransition } from '../records/delivery.states.ts';
import { transitionDelivery } from '../records/delivery.transitions.ts';
import type { Directory, Team } from '../directory/directory.types.ts';
import type { Urgency } from '../directory/router.ts';
import { RelayError, type FieldIssue } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { changeReferral } from '../records/referral-change.ts';
import { insertEvent, insertRoutes, type ReferralRow } from '../records/referral.repository.ts';
import { planAddedRoutes, type AddedRoutes, type CoverOutcome } from '../referrals/added-routes.plan.ts';

export const MAX_REDIRECT_REASON = 2000;

export interface RedirectBy {
  /** The person redirecting, as the acknowledgement records them. */
  name: string;
  actor: string;
  ackMethod: AckMethod;
  userId?: string;
  keyId?: string;
}

export interface RedirectResult {
  referralId: string;
  reference: string;
  fromTeamId: string;
  toTeamId: string;
  routeId: string;
  ackBy: string;
  cancelled: string[];
  deliveries: string[];
  /** Whether the hours rule also sent it to the new team's out-of-hours team. */
  cover: CoverOutcome;
}

interface Redirect {
  referralId: string;
  fromTeamId: string;
  to: Team;
  reason: string;
  by: RedirectBy;
  now: Date;
  directory: Directory;
  policy: DeadlinePolicy;
  messageDomain: string;
  /** The reason is free text that may name the subject, so it is stored encrypted. */
  keys: readonly DataKey[];
}

const invalid = (issues: FieldIssue[]) =>
  new RelayError('validation-failed', 'The redirect is not valid', issues);

/**
 * Hands a team's copy of a referral to another team, in one transaction: the old team's unsent
 * copies are cancelled and its route closed as redirected, and the new team gets a route with its
 * own deadline and fresh outbox deliveries (and, under intake's hours rule, its out-of-hours team
 * too). A redirect that cannot name a live new team is refused, so the referral always stays in
 * front of someone.
 */
export async function redirectReferral(
  ctx: RelayContext,
  referralId: string,
  fromTeamId: string,
  toTeamId: string,
  reason: string,
  by: RedirectBy,
): Promise<RedirectResult> {
  const note = reason.trim();
  const current = await ctx.directories.current();
  const to = current?.directory.authorities.flatMap((a) => a.teams).find((t) => t.id === toTeamId);
  const issues: FieldIssue[] = [];
  if (!to) issues.push({ path: 'to', message: 'Choose a team from the directory' });
  else if (toTeamId === fromTeamId) issues.push({ path: 'to', message: 'Choose a team other than your own' });
  if (!note) issues.push({ path: 'reason', message: 'Enter why this referral belongs with that team' });
  if (note.length > MAX_REDIRECT_REASON)
    issues.push({ path: 'reason', message: `Reason must be ${MAX_REDIRECT_REASON} characters or fewer` });
  if (!to || !current || issues.length > 0) throw invalid(issues);
  const { deadlines: policy, bounceDomain: messageDomain } = ctx.config;
  const { directory } = current;
  const redirect = {
    referralId,
    fromTeamId,
    to,
    reason: note,
    by,
    now: ctx.clock.now(),
    directory,
    policy,
    messageDomain,
    keys: ctx.config.dataKeys,
  };
  const result = await changeReferral(ctx.db.kysely, referralId, redirect.now, (trx, referral) =>
    writeRedirect(trx, redirect, referral),
  );
  ctx.signals.emit('deliveries-queued');
  return result;
}

async function writeRedirect(
  trx: Kysely<Database>,
  r: Redirect,
  referral: ReferralRow,
): Promise<RedirectResult> {
  const { routes, from } = await checkRoutes(trx, r);
  const cancelled = await cancelLiveDeliveries(trx, from.id, r);
  if (!from.acknowledged_at) await acknowledgeOnRedirect(trx, from, r);
  await resolveForAcknowledgement(trx, r.referralId, r.fromTeamId, `Redirected to ${r.to.id}`, r.now);
  const closed = await trx
    .updateTable('routes')
    .set({
      outcome: 'redirected',
      outcome_note: sealField(r.keys, PERSONAL_FIELDS.outcomeNote, from.id, r.reason),
      outcome_at: r.now.toISOString(),
    })
    .where('id', '=', from.id)
    .where('outcome', 'is', null)
    .executeTakeFirst();
  if (closed.numUpdatedRows === 0n)
    throw new RelayError('state-conflict', 'This team recorded an outcome for this referral meanwhile');

  const plan = planAddedRoutes({
    referral: {
      id: r.referralId,
      urgency: referral.urgency as Urgency,
      receivedAt: new Date(referral.received_at),
    },
    team: r.to,
    reason: 'redirected',
    directory: r.directory,
    routedTeamIds: routes.map((x) => x.team_id),
    position: Math.max(...routes.map((x) => x.position)) + 1,
    now: r.now,
    policy: r.policy,
    messageDomain: r.messageDomain,
  });
  await insertRoutes(trx, plan.routes);
  await insertDeliveries(trx, plan.deliveries);
  const route = plan.routes[0]!;
  await recordRedirect(trx, r, { fromRoute: from.id, plan, cancelled });
  return {
    referralId: r.referralId,
    reference: referral.reference,
    fromTeamId: r.fromTeamId,
    toTeamId: r.to.id,
    routeId: route.id,
    ackBy: route.ack_by,
    cancelled,
    deliveries: plan.deliveries.map((d) => d.id),
    cover: plan.cover,
  };
}

/**
 * Reads the referral's routes, under the referral's lock (changeReferral), so a concurrent redirect
 * or outcome for the same referral waits and then sees this one's result; refuses what cannot be
 * redirected.
 */
async function checkRoutes(trx: Kysely<Database>, r: Redirect) {
  await trx
    .updateTable('referrals')
    .set({ updated_at: r.now.toISOString() })
    .where('id', '=', r.referralId)
    .execute();
  const routes = await trx.selectFrom('routes').selectAll().where('referral_id', '=', r.referralId).execute();
  const from = routes.find((x) => x.team_id === r.fromTeamId);
  if (!from) throw new RelayError('not-found', 'That referral was not routed to this team');
  if (from.outcome === 'redirected')
    throw new RelayError('state-conflict', 'This team has already redirected this referral');
  if (from.outcome)
    throw new RelayError('state-conflict', `This team already recorded the outcome ${from.outcome}`);
  // One route per team and referral: a team that has (or had) it is reached through its own route.
  if (routes.some((x) => x.team_id === r.to.id))
    throw invalid([{ path: 'to', message: 'That team already has this referral' }]);
  return { routes, from };
}

/** Copies still on their way to the old team (and reminders about it) would only mislead it now. */
async function cancelLiveDeliveries(trx: Kysely<Database>, routeId: string, r: Redirect): Promise<string[]> {
  const rows = await trx
    .selectFrom('deliveries')
    .select(['id', 'state'])
    .where('route_id', '=', routeId)
    .execute();
  const live = rows.filter((d) => canTransition(d.state as DeliveryState, 'cancelled'));
  for (const d of live) {
    await transitionDelivery(trx, {
      deliveryId: d.id,
      to: 'cancelled',
      now: r.now,
      actor: r.by.actor,
      detail: { reason: 'redirected', to: r.to.id },
    });
  }
  return live.map((d) => d.id);
}

/**
 * A person at the old team read the referral and decided where it belongs, so the team did have it
 * in hand: recording that stops the watchdog chasing a team that has passed it on, and lets the
 * referral's status reach "acknowledged" once the new team acknowledges.
 */
async function acknowledgeOnRedirect(
  trx: Kysely<Database>,
  route: { id: string; team_id: string },
  r: Redirect,
): Promise<void> {
  const at = r.now.toISOString();
  const updated = await trx
    .updateTable('routes')
    .set({ acknowledged_at: at })
    .where('id', '=', route.id)
    .where('acknowledged_at', 'is', null)
    .executeTakeFirst();
  // Acknowledged by another channel a moment ago: that acknowledgement stands.
  if (updated.numUpdatedRows === 0n) return;
  await trx
    .insertInto('acknowledgements')
    .values({
      id: randomUUID(),
      referral_id: r.referralId,
      route_id: route.id,
      team_id: route.team_id,
      delivery_id: null,
      at,
      method: r.by.ackMethod,
      by_name: r.by.name,
      by_user: r.by.userId ?? null,
      by_key: r.by.keyId ?? null,
    })
    .execute();
  const detail = { team: route.team_id, method: r.by.ackMethod, delivery: null, redirect: true };
  await insertEvent(trx, {
    referral_id: r.referralId,
    at,
    kind: 'acknowledged',
    actor: r.by.actor,
    detail: JSON.stringify(detail),
  });
  await appendAudit(trx, r.now, {
    actor: r.by.actor,
    action: 'route.acknowledged',
    entityType: 'route',
    entityId: route.id,
    detail: { referral: r.referralId, ...detail },
  });
}

async function recordRedirect(
  trx: Kysely<Database>,
  r: Redirect,
  ids: { fromRoute: string; plan: AddedRoutes; cancelled: string[] },
): Promise<void> {
  // The reason is free text and may name people, so it stays on the route, out of timeline and audit.
  const [route, coverRoute] = ids.plan.routes;
  const detail = {
    from: r.fromTeamId,
    to: r.to.id,
    route: route?.id,
    cover: ids.plan.cover.kind,
    ...(coverRoute ? { outOfHours: coverRoute.team_id, outOfHoursRoute: coverRoute.id } : {}),
  };
  await insertEvent(trx, {
    referral_id: r.referralId,
    at: r.now.toISOString(),
    kind: 'redirected',
    actor: r.by.actor,
    detail: JSON.stringify(detail),
  });
  await appendAudit(trx, r.now, {
    actor: r.by.actor,
    action: 'referral.redirected',
    entityType: 'referral',
    entityId: r.referralId,
    detail: {
      ...detail,
      fromRoute: ids.fromRoute,
      cancelled: ids.cancelled,
      deliveries: ids.plan.deliveries.map((d) => d.id),
    },
  });
}
