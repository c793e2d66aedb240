import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { dedupeKey, openEscalation, type NewEscalation } from '../records/escalation.service.ts';
import { londonDayWindow } from './jobs/schedule.ts';

/** One line of a manifest: references, times and urgency only, so it may travel by plain email. */
export interface ManifestEntry {
  reference: string;
  referralId: string;
  receivedAt: string;
  urgency: string;
  acknowledgedAt: string | null;
}

export interface Manifest {
  team: string;
  /** The London date (YYYY-MM-DD) the referrals were received on. */
  date: string;
  references: ManifestEntry[];
}

/** Every referral routed to the team and received on that London day, oldest first. */
export async function manifestFor(db: Kysely<Database>, teamId: string, date: string): Promise<Manifest> {
  const { from, to } = londonDayWindow(date);
  const rows = await db
    .selectFrom('routes as r')
    .innerJoin('referrals as f', 'f.id', 'r.referral_id')
    .select(['f.reference', 'f.id', 'f.received_at', 'f.urgency', 'r.acknowledged_at'])
    .where('r.team_id', '=', teamId)
    .where('f.received_at', '>=', from)
    .where('f.received_at', '<', to)
    .orderBy('f.received_at')
    .orderBy('f.reference')
    .execute();
  return {
    team: teamId,
    date,
    references: rows.map((r) => ({
      reference: r.reference,
      referralId: r.id,
      receivedAt: r.received_at,
      urgency: r.urgency,
      acknowledgedAt: r.acknowledged_at,
    })),
  };
}

/** Teams that were routed at least one referral received on that London day. */
export async function teamsWithReferralsOn(db: Kysely<Database>, date: string): Promise<string[]> {
  const { from, to } = londonDayWindow(date);
  const rows = await db
    .selectFrom('routes as r')
    .innerJoin('referrals as f', 'f.id', 'r.referral_id')
    .select('r.team_id')
    .distinct()
    .where('f.received_at', '>=', from)
    .where('f.received_at', '<', to)
    .orderBy('r.team_id')
    .execute();
  return rows.map((r) => r.team_id);
}

export const DISPUTE_REASONS = ['not-received', 'not-ours', 'other'] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

export interface Dispute {
  reference: string;
  reason: DisputeReason;
  note?: string | undefined;
}

export interface DisputeResult {
  escalationId: string;
  /** False when the team had already disputed this reference: the same escalation stands. */
  opened: boolean;
}

/**
 * A team disputing a manifest line (not received, not ours) is exactly the mismatch reconciliation
 * exists to find, so it opens an escalation for the safeguarding team, one per team and reference.
 * The referral is linked only when it was routed to this team, so a key cannot learn of others'.
 */
export async function disputeManifestEntry(
  ctx: RelayContext,
  teamId: string,
  dispute: Dispute,
  actor: string,
): Promise<DisputeResult> {
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const routed = await trx
      .selectFrom('referrals as f')
      .innerJoin('routes as r', 'r.referral_id', 'f.id')
      .select('f.id')
      .where('f.reference', '=', dispute.reference)
      .where('r.team_id', '=', teamId)
      .executeTakeFirst();
    const escalation: NewEscalation = {
      referralId: routed?.id ?? null,
      teamId,
      reason: 'manifest-disputed',
      detail: { reference: dispute.reference, dispute: dispute.reason, by: actor },
      occasion: dispute.reference,
    };
    const opened = await openEscalation(trx, escalation, now);
    const key = dedupeKey(escalation);
    const row = await trx
      .selectFrom('escalations')
      .select(['id'])
      .where('dedupe_key', '=', key)
      .executeTakeFirstOrThrow();
    if (opened && dispute.note) {
      // The team's free-text note is kept on the escalation for the person working it, encrypted,
      // and never in `detail`, which openEscalation copies into the audit log.
      const teamNote = sealField(ctx.config.dataKeys, PERSONAL_FIELDS.teamNote, row.id, dispute.note);
      await trx.updateTable('escalations').set({ team_note: teamNote }).where('id', '=', row.id).execute();
    }
    return { escalationId: row.id, opened };
  });
}
