import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import { HOUR } from '../../time.ts';
import { REFERRAL_REASONS, type DeliveryState, type EscalationReason } from '../../db/codes.ts';
import { openEscalation } from '../../records/escalation.service.ts';

const BATCH = 200;
/** A resolution may put the next look at most this far off. */
export const MAX_FOLLOW_UP_MS = 24 * HOUR;

const DELIVERED: DeliveryState[] = ['sent', 'acknowledged'];

export function isReferralReason(reason: string): boolean {
  return (REFERRAL_REASONS as readonly string[]).includes(reason);
}

interface Watched {
  referral_id: string | null;
  team_id: string | null;
  reason: string;
}

/**
 * Whether what the escalation was about still stands. Only an acknowledgement (a redirect records
 * one), a route out of triage, a successful delivery, or the referral being closed ends the watch;
 * a resolution note alone never does.
 */
export async function conditionStands(db: Kysely<Database>, e: Watched): Promise<boolean> {
  if (!e.referral_id || !isReferralReason(e.reason)) return false;
  const referral = await db
    .selectFrom('referrals')
    .select('closed_at')
    .where('id', '=', e.referral_id)
    .executeTakeFirst();
  if (!referral || referral.closed_at) return false;
  if (e.reason === 'triage-overdue') {
    const open = await db
      .selectFrom('triage_items')
      .select('id')
      .where('referral_id', '=', e.referral_id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    return open !== undefined;
  }
  if (!e.team_id) return false;
  const route = await db
    .selectFrom('routes')
    .select('id')
    .where('referral_id', '=', e.referral_id)
    .where('team_id', '=', e.team_id)
    .where('acknowledged_at', 'is', null)
    .executeTakeFirst();
  if (!route) return false;
  if (e.reason === 'not-acknowledged') return true;
  const delivered = await db
    .selectFrom('deliveries')
    .select('id')
    .where('route_id', '=', route.id)
    .where('purpose', '=', 'referral')
    .where('state', 'in', DELIVERED)
    .executeTakeFirst();
  return delivered === undefined;
}

/**
 * Resolved escalations whose follow-up time has come: if the condition still stands a new
 * escalation opens, linked to the resolved one (previous_id) under its own key, so at most one is
 * open per (referral, team, reason) and the history stays whole. It is then pushed like any other.
 */
export async function followUpResolved(ctx: RelayContext, now: Date): Promise<number> {
  const db = ctx.db.kysely;
  const due = await db
    .selectFrom('escalations')
    .select(['id', 'referral_id', 'team_id', 'reason', 'follow_up_at'])
    .where('state', '=', 'resolved')
    .where('follow_up_at', '<=', now.toISOString())
    .orderBy('follow_up_at')
    .limit(BATCH)
    .execute();
  let reopened = 0;
  for (const row of due) {
    const stands = await conditionStands(db, row);
    const opened = await db.transaction().execute(async (trx) => {
      const taken = await trx
        .updateTable('escalations')
        .set({ follow_up_at: null })
        .where('id', '=', row.id)
        .where('follow_up_at', '=', row.follow_up_at)
        .executeTakeFirst();
      if (taken.numUpdatedRows === 0n || !stands) return false;
      return openEscalation(
        trx,
        {
          referralId: row.referral_id,
          teamId: row.team_id,
          reason: row.reason as EscalationReason,
          detail: { reopens: row.id },
          occasion: `after:${row.id}`,
          previousId: row.id,
        },
        now,
      );
    });
    if (opened) reopened += 1;
  }
  return reopened;
}

/** When a resolution of a referral's escalation is looked at again: ESCALATION_REOPEN_AFTER unless named. */
export function followUpTime(ctx: RelayContext, reason: string, now: Date, requested?: Date): string | null {
  if (!isReferralReason(reason)) return null;
  const at = requested ?? new Date(now.getTime() + ctx.config.escalation.reopenAfterMs);
  return at.toISOString();
}
