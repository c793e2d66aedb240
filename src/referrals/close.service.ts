import type { Transaction } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { resolveEscalationIn, type Resolver } from '../records/escalation.service.ts';
import { changeReferral } from '../records/referral-change.ts';
import { findReferral, insertEvent } from '../records/referral.repository.ts';

export const CLOSE_REASON_MAX = 2000;

/** How a closure is told apart in the audit log and the timeline; `detail` adds to the audit entry. */
export interface ClosedHow {
  reason: 'closed-by-hand' | 'handed-off';
  how: string;
  detail?: Record<string, string>;
}

/**
 * Closes the referral inside the caller's changeReferral (which holds its locks and refreshes its
 * status): the sealed reason, the audit entry, the timeline, its escalations resolved and none to
 * follow up. Refused (state-conflict) if it is already closed.
 */
export async function closeIn(
  trx: Transaction<Database>,
  ctx: RelayContext,
  referral: { id: string; reference: string },
  why: string,
  by: Resolver,
  now: Date,
  closed: ClosedHow,
): Promise<void> {
  const at = now.toISOString();
  const result = await trx
    .updateTable('referrals')
    .set({
      closed_at: at,
      closed_by: by.name,
      close_reason: sealField(ctx.config.dataKeys, PERSONAL_FIELDS.closeReason, referral.id, why),
      updated_at: at,
    })
    .where('id', '=', referral.id)
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n)
    throw new RelayError('state-conflict', `${referral.reference} is already closed`);
  await appendAudit(trx, now, {
    actor: by.actor,
    action: 'referral.closed',
    entityType: 'referral',
    entityId: referral.id,
    detail: { reference: referral.reference, reason: closed.reason, by: by.name, ...closed.detail },
  });
  await insertEvent(trx, {
    referral_id: referral.id,
    at,
    kind: 'closed',
    actor: by.actor,
    detail: JSON.stringify({ by: by.name, how: closed.how }),
  });
  const open = await trx
    .selectFrom('escalations')
    .select('id')
    .where('referral_id', '=', referral.id)
    .where('state', '!=', 'resolved')
    .execute();
  for (const e of open) {
    await resolveEscalationIn(trx, e.id, `The referral was closed by ${by.name}.`, by, now);
  }
  // Resolved earlier, waiting to be looked at again: a closed referral is watched no more.
  await trx
    .updateTable('escalations')
    .set({ follow_up_at: null })
    .where('referral_id', '=', referral.id)
    .where('follow_up_at', 'is not', null)
    .execute();
}

export interface ClosedReferral {
  id: string;
  reference: string;
  closedAt: string;
  closedBy: string;
}

/**
 * A person in the safeguarding team closes a referral that needs nothing more (a duplicate, a
 * referral made in error, one dealt with outside Relay), saying why. It is the one action besides an
 * acknowledgement, a route or a delivery that ends the watchdog's watch: its escalations are resolved
 * and none re-opens. The reason may name the subject, so it is encrypted and kept out of the audit
 * log and the timeline.
 */
export async function closeReferral(
  ctx: RelayContext,
  idOrReference: string,
  reason: string,
  by: Resolver,
): Promise<ClosedReferral> {
  const why = reason.trim();
  if (!why || why.length > CLOSE_REASON_MAX) {
    throw new RelayError('validation-failed', undefined, [
      { path: 'reason', message: `Say why the referral is closed, in 1 to ${CLOSE_REASON_MAX} characters` },
    ]);
  }
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  if (!referral) throw new RelayError('not-found', `No referral ${idOrReference}`);
  const now = ctx.clock.now();
  await changeReferral(ctx.db.kysely, referral.id, now, async (trx) => {
    await closeIn(trx, ctx, referral, why, by, now, {
      reason: 'closed-by-hand',
      how: 'closed by hand, with a reason',
    });
    // Closed from the referral's page while it waited in triage: the queue no longer holds it.
    await trx
      .updateTable('triage_items')
      .set({ resolved_at: now.toISOString(), resolved_by: by.name, resolution: 'closed', outcome: 'closed' })
      .where('referral_id', '=', referral.id)
      .where('resolved_at', 'is', null)
      .execute();
  });
  const at = now.toISOString();
  return { id: referral.id, reference: referral.reference, closedAt: at, closedBy: by.name };
}
