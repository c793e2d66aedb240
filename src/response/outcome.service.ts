import type { Kysely } from 'kysely';
import { acknowledgeRoute, type AckMethod } from './acknowledgement.service.ts';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField, unsealField } from '../records/personal-data.ts';
import { insertEvent, refreshStatus } from '../records/referral.repository.ts';
import { selectRouteFacts, type RouteFacts } from './route.facts.ts';

/** What the receiving team decided to do with the referral (docs/api.md, Outcome). */
export const OUTCOMES = [
  's42-enquiry',
  'child-protection-enquiry',
  'assessment',
  'advice-given',
  'no-further-action',
  'redirected',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface OutcomeBy {
  /** Who recorded it (a person, or the team system's key name): used if this also acknowledges. */
  name: string;
  actor: string;
  ackMethod: AckMethod;
  keyId?: string;
  userId?: string;
}

export interface OutcomeResult {
  /** False when the same outcome and note were already recorded: a retry changes nothing. */
  recorded: boolean;
  referralId: string;
  reference: string;
  teamId: string;
  outcome: string;
  note: string;
  recordedAt: string;
  /** True when this was the last route without an outcome, so the referral is now closed. */
  referralClosed: boolean;
}

async function findRoute(db: Kysely<Database>, referralId: string, teamId: string) {
  return selectRouteFacts(db)
    .where('routes.referral_id', '=', referralId)
    .where('routes.team_id', '=', teamId)
    .executeTakeFirst();
}

/** A repeat of the same outcome is a safe retry; a different one would rewrite the record, so it is refused. */
function existingOutcome(
  keys: readonly DataKey[],
  route: RouteFacts,
  outcome: Outcome,
  note: string,
): OutcomeResult {
  const recorded = unsealField(keys, PERSONAL_FIELDS.outcomeNote, route.id, route.outcome_note);
  if (route.outcome !== outcome || recorded !== note) {
    throw new RelayError(
      'state-conflict',
      `This team already recorded the outcome ${route.outcome ?? ''} for this referral`,
    );
  }
  return {
    recorded: false,
    referralId: route.referral_id,
    reference: route.reference,
    teamId: route.team_id,
    outcome,
    note,
    recordedAt: route.outcome_at ?? '',
    referralClosed: false,
  };
}

/**
 * Records a team's outcome on its route. An outcome implies the team has the referral, so it is
 * acknowledged first if it was not yet; once every route has an outcome the referral is closed.
 */
export async function recordOutcome(
  ctx: RelayContext,
  referralId: string,
  teamId: string,
  input: { outcome: Outcome; note: string },
  by: OutcomeBy,
): Promise<OutcomeResult> {
  const note = input.note.trim();
  const route = await findRoute(ctx.db.kysely, referralId, teamId);
  if (!route) throw new RelayError('not-found', 'That referral was not routed to this team');
  if (route.outcome) return existingOutcome(ctx.config.dataKeys, route, input.outcome, note);
  if (!route.acknowledged_at) {
    await acknowledgeRoute(ctx, route.id, {
      method: by.ackMethod,
      name: by.name,
      actor: by.actor,
      keyId: by.keyId,
      userId: by.userId,
    });
  }
  const now = ctx.clock.now();
  return ctx.db.kysely
    .transaction()
    .execute((trx) =>
      writeOutcome(trx, ctx.config.dataKeys, route, { outcome: input.outcome, note }, by.actor, now),
    );
}

async function writeOutcome(
  trx: Kysely<Database>,
  keys: readonly DataKey[],
  route: RouteFacts,
  input: { outcome: Outcome; note: string },
  actor: string,
  now: Date,
): Promise<OutcomeResult> {
  const at = now.toISOString();
  const { referral_id: referralId, team_id: teamId } = route;
  // Touching the referral first takes its row lock on PostgreSQL, so two teams recording outcomes
  // at once cannot each miss that the other's was the last one needed to close it. It also puts
  // the change in front of clients polling with updatedSince.
  await trx.updateTable('referrals').set({ updated_at: at }).where('id', '=', referralId).execute();
  const current = await findRoute(trx, referralId, teamId);
  if (current?.outcome) return existingOutcome(keys, current, input.outcome, input.note);
  const sealed = sealField(keys, PERSONAL_FIELDS.outcomeNote, route.id, input.note);
  await trx
    .updateTable('routes')
    .set({ outcome: input.outcome, outcome_note: sealed, outcome_at: at })
    .where('id', '=', route.id)
    .execute();
  // The note is free text and may name people, so it stays out of the timeline and the audit log.
  const detail = { team: teamId, outcome: input.outcome };
  await insertEvent(trx, {
    referral_id: referralId,
    at,
    kind: 'outcome-recorded',
    actor,
    detail: JSON.stringify(detail),
  });
  await appendAudit(trx, now, {
    actor,
    action: 'route.outcome',
    entityType: 'route',
    entityId: route.id,
    detail: { referral: referralId, ...detail },
  });
  const referralClosed = await closeIfComplete(trx, referralId, actor, now);
  await refreshStatus(trx, referralId, now);
  return {
    recorded: true,
    referralId,
    reference: route.reference,
    teamId,
    ...input,
    recordedAt: at,
    referralClosed,
  };
}

/** The referral is finished once every team it went to has said what it did. */
async function closeIfComplete(
  trx: Kysely<Database>,
  referralId: string,
  actor: string,
  now: Date,
): Promise<boolean> {
  const open = await trx
    .selectFrom('routes')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('outcome', 'is', null)
    .executeTakeFirst();
  if (open) return false;
  const at = now.toISOString();
  const closed = await trx
    .updateTable('referrals')
    .set({ closed_at: at })
    .where('id', '=', referralId)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  if (closed.numUpdatedRows === 0n) return false;
  await insertEvent(trx, { referral_id: referralId, at, kind: 'closed', actor, detail: '{}' });
  await appendAudit(trx, now, {
    actor,
    action: 'referral.closed',
    entityType: 'referral',
    entityId: referralId,
    detail: { reason: 'every-route-has-an-outcome' },
  });
  return true;
}
