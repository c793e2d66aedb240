import type { RelayContext } from '../../context.ts';
import type { EscalationItem } from '../../assurance/escalation.queries.ts';
import { deliveryState, formatDuration } from './labels.ts';

/**
 * What the person working the escalation queue needs beside the reason: how urgent the referral is,
 * how late it is against the deadline the escalation is about, and how each copy to the team went
 * (channel, state, last error), so a failed webhook beside a sent email shows as exactly that.
 */
export interface EscalationFacts {
  urgency: string | null;
  /** The deadline the escalation is about, when it has one. */
  deadline: string | null;
  /** "Overdue by 2 h 5 min", or "Open for 10 min" when the escalation has no deadline of its own. */
  lateness: string;
  overdue: boolean;
  copies: { channel: string; state: string; lastError: string | null }[];
}

const URGENCIES: Record<string, string> = { immediate: 'Immediate', urgent: 'Urgent', routine: 'Routine' };
const CHANNELS: Record<string, string> = { email: 'Email', webhook: 'Webhook', mesh: 'MESH' };

export const urgencyText = (code: string): string => URGENCIES[code] ?? code;
export const channelText = (code: string): string => CHANNELS[code] ?? code;

/** One read per table for the whole list, however many escalations it holds. */
export async function escalationFacts(
  ctx: RelayContext,
  items: EscalationItem[],
  now: Date,
): Promise<Map<string, EscalationFacts>> {
  const db = ctx.db.kysely;
  const referralIds = [...new Set(items.flatMap((i) => (i.referralId ? [i.referralId] : [])))];
  const [referrals, routes, deliveries, triage] =
    referralIds.length === 0
      ? [[], [], [], []]
      : await Promise.all([
          db.selectFrom('referrals').select(['id', 'urgency']).where('id', 'in', referralIds).execute(),
          db
            .selectFrom('routes')
            .select(['referral_id', 'team_id', 'ack_by'])
            .where('referral_id', 'in', referralIds)
            .execute(),
          db
            .selectFrom('deliveries')
            .select(['referral_id', 'team_id', 'channel', 'state', 'last_error', 'send_by'])
            .where('referral_id', 'in', referralIds)
            // The referral itself, not the reminders and alerts about it.
            .where('purpose', '=', 'referral')
            .orderBy('channel')
            .execute(),
          db
            .selectFrom('triage_items')
            .select(['referral_id', 'triage_by'])
            .where('referral_id', 'in', referralIds)
            .where('resolved_at', 'is', null)
            .execute(),
        ]);
  const facts = new Map<string, EscalationFacts>();
  for (const item of items) {
    const mine = <R extends { referral_id: string | null; team_id?: string }>(rows: R[]) =>
      rows.filter((r) => r.referral_id === item.referralId && (!r.team_id || r.team_id === item.team));
    const copies = mine(deliveries);
    const deadline = deadlineOf(item.reason, {
      ackBy: mine(routes)[0]?.ack_by,
      sendBy: copies.map((d) => d.send_by).sort()[0],
      triageBy: mine(triage)[0]?.triage_by,
    });
    const overdue = deadline !== null && deadline <= now.toISOString();
    facts.set(item.id, {
      urgency: referrals.find((r) => r.id === item.referralId)?.urgency ?? null,
      deadline,
      overdue,
      lateness: overdue
        ? `Overdue by ${formatDuration(now.getTime() - Date.parse(deadline))}`
        : `Open for ${formatDuration(now.getTime() - Date.parse(item.openedAt))}`,
      copies: copies.map((d) => ({
        channel: channelText(d.channel),
        state: deliveryState(d.state),
        lastError: d.last_error,
      })),
    });
  }
  return facts;
}

/** The deadline each reason is about: acknowledgement, sending or triage; none for the rest. */
function deadlineOf(
  reason: string,
  times: { ackBy?: string; sendBy?: string; triageBy?: string },
): string | null {
  if (reason === 'not-acknowledged') return times.ackBy ?? null;
  if (reason === 'not-sent' || reason === 'failed' || reason === 'bounced') return times.sendBy ?? null;
  if (reason === 'triage-overdue') return times.triageBy ?? null;
  return null;
}
