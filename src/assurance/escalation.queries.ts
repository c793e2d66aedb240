import type { RelayContext } from '../context.ts';
import type { Directory, Phone } from '../directory/directory.types.ts';
import { RelayError } from '../errors.ts';
import { PERSONAL_FIELDS, unsealField } from '../records/personal-data.ts';

/**
 * The escalation queue as the safeguarding team works it, shared by the API and the web pages so
 * both show the same teams and the same numbers to call.
 */
export interface EscalationItem {
  id: string;
  reference: string | null;
  referralId: string | null;
  team: string | null;
  teamName: string | null;
  reason: string;
  state: string;
  openedAt: string;
  claimedBy: string | null;
  claimedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
  phones: Phone[];
  /** Who it was first pushed to: the person on call, or SAFEGUARDING_EMAIL. */
  assignedTo: string | null;
  /** The ladder rung last pushed: 0 the person on call, n the n-th address of ESCALATION_LADDER. */
  rung: number;
  /** The resolved escalation this one re-opened. */
  previousId: string | null;
  /** Resolved: when Relay looks again whether the problem still stands; null once it has. */
  followUpAt: string | null;
}

/** Escalations with their referral's reference and directory version; callers add filters and order. */
export function escalationRows(ctx: RelayContext) {
  return ctx.db.kysely
    .selectFrom('escalations')
    .leftJoin('referrals', 'referrals.id', 'escalations.referral_id')
    .selectAll('escalations')
    .select(['referrals.reference', 'referrals.directory_version']);
}

export type EscalationRow = Awaited<ReturnType<ReturnType<typeof escalationRows>['execute']>>[number];

/**
 * The team as the referral saw it (its directory version), so the numbers are the ones the
 * referral was routed with; a system escalation has no referral and uses the current directory.
 */
export async function toEscalationItem(ctx: RelayContext, row: EscalationRow): Promise<EscalationItem> {
  let directory: Directory | undefined;
  if (row.team_id) {
    directory = row.directory_version
      ? await ctx.directories.version(row.directory_version)
      : (await ctx.directories.current())?.directory;
  }
  const team = directory?.authorities.flatMap((a) => a.teams).find((t) => t.id === row.team_id);
  return {
    id: row.id,
    reference: row.reference,
    referralId: row.referral_id,
    team: row.team_id,
    teamName: team?.name ?? null,
    reason: row.reason,
    state: row.state,
    openedAt: row.opened_at,
    claimedBy: row.claimed_by,
    claimedAt: row.claimed_at,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
    note: unsealField(ctx.config.dataKeys, PERSONAL_FIELDS.escalationNote, row.id, row.note),
    phones: team?.phones.map((p) => ({ label: p.label, number: p.number })) ?? [],
    assignedTo: row.assigned_to,
    rung: row.rung,
    previousId: row.previous_id,
    followUpAt: row.follow_up_at,
  };
}

export async function findEscalationItem(ctx: RelayContext, id: string): Promise<EscalationItem> {
  const row = await escalationRows(ctx).where('escalations.id', '=', id).executeTakeFirst();
  if (!row) throw new RelayError('not-found', 'No escalation with that id');
  return toEscalationItem(ctx, row);
}
