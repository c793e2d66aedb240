import type { RelayContext } from '../context.ts';
import { RelayError, type FieldIssue } from '../errors.ts';
import type { Resolver } from '../records/escalation.service.ts';
import { changeReferral } from '../records/referral-change.ts';
import { CLOSE_REASON_MAX, closeIn } from './close.service.ts';

/** How a referral was passed to another area's service: kept as a code, shown in words. */
export const HANDOFF_METHODS = {
  phone: 'By phone',
  'secure-email': 'By secure email',
  portal: 'Through their online referral portal',
  other: 'Another way (say how in the note)',
} as const;
export type HandoffMethod = keyof typeof HANDOFF_METHODS;

export const SERVICE_MAX = 200;

export type TriageFinish =
  { kind: 'handed-off'; service: string; method: string; note: string } | { kind: 'closed'; reason: string };

/** Every problem with the form, by field; an empty list means it can be done. */
export function finishProblems(finish: TriageFinish): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (finish.kind === 'closed') {
    if (!finish.reason) issues.push({ path: 'reason', message: 'Enter why the referral is closed' });
    else if (finish.reason.length > CLOSE_REASON_MAX)
      issues.push({ path: 'reason', message: `Reason must be ${CLOSE_REASON_MAX} characters or fewer` });
    return issues;
  }
  if (!finish.service) issues.push({ path: 'service', message: 'Enter the service it was handed to' });
  else if (finish.service.length > SERVICE_MAX)
    issues.push({ path: 'service', message: `Service must be ${SERVICE_MAX} characters or fewer` });
  if (!(finish.method in HANDOFF_METHODS))
    issues.push({ path: 'method', message: 'Select how it was sent to that service' });
  if (finish.method === 'other' && !finish.note)
    issues.push({ path: 'note', message: 'Enter how it was sent' });
  if (finish.note.length > CLOSE_REASON_MAX)
    issues.push({ path: 'note', message: `Note must be ${CLOSE_REASON_MAX} characters or fewer` });
  return issues;
}

/**
 * Finishes a triaged referral without a team in the region: handed off to another area's service
 * (which, and how it was sent) or closed with a reason. One transaction claims the triage item
 * (two people cannot both finish it), closes the referral as closing by hand does (escalations
 * resolved, timeline, audit) and records the outcome on the item for the dashboard. The service is
 * an organisation's name, kept in the audit entry; the reason and note may name the subject, so they
 * are sealed with the referral's close reason and kept out of the audit log.
 */
export async function finishFromTriage(
  ctx: RelayContext,
  triageItemId: string,
  finish: TriageFinish,
  by: Resolver,
): Promise<{ referralId: string; reference: string }> {
  const issues = finishProblems(finish);
  if (issues.length > 0) throw new RelayError('validation-failed', undefined, issues);
  const now = ctx.clock.now();
  const at = now.toISOString();
  // The item and its referral are read first, unlocked: changeReferral then takes the audit head and
  // the referral's row before the item is claimed.
  const item = await ctx.db.kysely
    .selectFrom('triage_items')
    .innerJoin('referrals', 'referrals.id', 'triage_items.referral_id')
    .select(['triage_items.id', 'referrals.id as referralId', 'referrals.reference'])
    .where('triage_items.id', '=', triageItemId)
    .executeTakeFirst();
  if (!item) throw new RelayError('not-found', 'No triage item with that id');
  return changeReferral(ctx.db.kysely, item.referralId, now, async (trx) => {
    const handedOff = finish.kind === 'handed-off';
    const method = handedOff ? HANDOFF_METHODS[finish.method as HandoffMethod] : '';
    const claimed = await trx
      .updateTable('triage_items')
      .set({
        resolved_at: at,
        resolved_by: by.name,
        resolution: handedOff ? `handed off to ${finish.service}` : 'closed with a reason',
        outcome: finish.kind,
        handoff_service: handedOff ? finish.service : null,
        handoff_method: handedOff ? finish.method : null,
      })
      .where('id', '=', item.id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n)
      throw new RelayError('state-conflict', 'This referral has already been finished from the triage queue');
    const referral = { id: item.referralId, reference: item.reference };
    if (handedOff) {
      const why = [`Handed off to ${finish.service}: ${method.toLowerCase()}.`, finish.note].filter(Boolean);
      await closeIn(trx, ctx, referral, why.join(' '), by, now, {
        reason: 'handed-off',
        how: `handed off to ${finish.service}, ${method.toLowerCase()}`,
        detail: { service: finish.service, method: finish.method, triage: item.id },
      });
    } else {
      await closeIn(trx, ctx, referral, finish.reason, by, now, {
        reason: 'closed-by-hand',
        how: 'closed from triage, with a reason',
        detail: { triage: item.id },
      });
    }
    return { referralId: referral.id, reference: referral.reference };
  });
}
