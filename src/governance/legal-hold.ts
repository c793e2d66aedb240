import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { findReferral, type ReferralRow } from '../records/referral.repository.ts';
import { appendAudit } from '../records/audit.ts';

/**
 * A legal hold keeps a referral's personal data past the retention period (litigation, an inquiry,
 * a serious case review) until it is cleared. Both changes are audited; the reason goes into the
 * audit log, which is kept for ever, so it should be a case or matter number, not personal data.
 */

export const MAX_HOLD_REASON = 500;

async function referralOrFail(ctx: RelayContext, idOrReference: string): Promise<ReferralRow> {
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  if (!referral) throw new RelayError('not-found', `No referral ${idOrReference}`);
  return referral;
}

export async function setLegalHold(
  ctx: RelayContext,
  idOrReference: string,
  reason: string,
  actor: string,
): Promise<ReferralRow> {
  const why = reason.trim();
  if (!why || why.length > MAX_HOLD_REASON) {
    throw new RelayError('validation-failed', 'The legal hold needs a reason', [
      { path: 'reason', message: `Give a reason of 1 to ${MAX_HOLD_REASON} characters` },
    ]);
  }
  const referral = await referralOrFail(ctx, idOrReference);
  if (referral.purged_at) {
    throw new RelayError(
      'state-conflict',
      `The personal data of ${referral.reference} was already removed on ${referral.purged_at}`,
    );
  }
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const held = await trx
      .updateTable('referrals')
      .set({ legal_hold: 1, legal_hold_reason: why, legal_hold_by: actor, legal_hold_at: now.toISOString() })
      .where('id', '=', referral.id)
      .where('legal_hold', '=', 0)
      .where('purged_at', 'is', null)
      .executeTakeFirst();
    if (held.numUpdatedRows === 0n) {
      throw new RelayError('state-conflict', `${referral.reference} is already on legal hold`);
    }
    await appendAudit(trx, now, {
      actor,
      action: 'referral.legal-hold-set',
      entityType: 'referral',
      entityId: referral.id,
      detail: { reference: referral.reference, reason: why },
    });
  });
  return referral;
}

export async function clearLegalHold(
  ctx: RelayContext,
  idOrReference: string,
  actor: string,
): Promise<ReferralRow> {
  const referral = await referralOrFail(ctx, idOrReference);
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const cleared = await trx
      .updateTable('referrals')
      .set({ legal_hold: 0, legal_hold_reason: null, legal_hold_by: null, legal_hold_at: null })
      .where('id', '=', referral.id)
      .where('legal_hold', '=', 1)
      .executeTakeFirst();
    if (cleared.numUpdatedRows === 0n) {
      throw new RelayError('state-conflict', `${referral.reference} is not on legal hold`);
    }
    await appendAudit(trx, now, {
      actor,
      action: 'referral.legal-hold-cleared',
      entityType: 'referral',
      entityId: referral.id,
      detail: {
        reference: referral.reference,
        heldSince: referral.legal_hold_at,
        reason: referral.legal_hold_reason,
      },
    });
  });
  return referral;
}
