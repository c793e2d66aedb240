import type { PeerJobStates } from '../lib/peers.ts';
import type { Arrival } from '../lib/sink.ts';

/** What became of one accepted referral by the end of a chaos run. */
export interface Fate {
  /** Emails for it that reached the sink (more than one is a duplicate). */
  arrivals: number;
  /** Distinct Message-IDs among them (more than one: the referral was sent as two different messages). */
  messageIds: number;
  /** Some Message-ID arrived more than once (the same message sent again). */
  repeatedMessageId: boolean;
  delivered: boolean;
  /** Relay: an escalation was opened for it at some point (late, failed), whether or not it was delivered later. */
  everEscalated?: boolean;
  /**
   * Why it was not delivered: an open escalation puts it in front of a person (Relay); the system still
   * holds it and will try again by itself; it ended failed (retries spent); or nothing of it is left.
   */
  undelivered?: 'escalated' | 'pending' | 'failed' | 'gone';
}

export interface Tally {
  accepted: number;
  delivered: number;
  duplicated: number;
  /** Duplicates that repeated a Message-ID (the same message re-sent after a crash or lost answer). */
  duplicatedSameMessageId: number;
  /** Duplicates sent as different messages (for the peers: two jobs, from a POST retried after a lost answer). */
  duplicatedDifferentMessageIds: number;
  /** Not delivered, but an open escalation says so to a person (Relay only). */
  escalated: number;
  /** Not delivered, no escalation, still queued: the system will try again by itself. */
  pending: number;
  /** Not delivered, no escalation, and nothing will try again: failed for good or vanished. */
  lost: number;
  failed: number;
  gone: number;
  /** Not delivered and no open escalation: nobody has been told (pending + lost). */
  stuckWithoutEscalation: number;
  /** Relay: referrals for which an escalation was opened during the run (late, failed), delivered or not. */
  everEscalated: number;
}

const bare = (messageId: string) => messageId.trim().replace(/^<|>$/g, '');

function countBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

export interface RelayDeliveryRow {
  referral_id: string | null;
  team_id: string;
  state: string;
  message_id: string;
}

const UNFINISHED = new Set(['queued', 'sending', 'retrying']);
const FAILED = new Set(['failed', 'bounced', 'cancelled']);

/**
 * Relay: a referral is delivered when every delivery intake made for it (one per team) reached the
 * sink, matched by its stable Message-ID. An undelivered one is escalated when every team it has not
 * reached has an open escalation for it.
 */
export function relayFates(
  accepted: { ref: string; key: string }[],
  deliveries: RelayDeliveryRow[],
  escalations: { referral_id: string | null; team_id: string | null; state: string }[],
  arrivals: Arrival[],
): Map<string, Fate> {
  const byMessageId = countBy(arrivals, (a) => bare(a.messageId));
  const byReferral = new Map<string, RelayDeliveryRow[]>();
  for (const d of deliveries) {
    if (!d.referral_id) continue;
    byReferral.set(d.referral_id, [...(byReferral.get(d.referral_id) ?? []), d]);
  }
  const escalated = new Set(
    escalations.filter((e) => e.state !== 'resolved').map((e) => `${e.referral_id}:${e.team_id}`),
  );
  const everEscalated = new Set(escalations.map((e) => e.referral_id));
  const fates = new Map<string, Fate>();
  for (const { ref, key } of accepted) {
    const rows = byReferral.get(key) ?? [];
    const counts = rows.map((d) => byMessageId.get(bare(d.message_id)) ?? 0);
    const fate: Fate = {
      arrivals: counts.reduce((a, b) => a + b, 0),
      messageIds: counts.filter((c) => c > 0).length,
      repeatedMessageId: counts.some((c) => c > 1),
      delivered: rows.length > 0 && counts.every((c) => c > 0),
      everEscalated: everEscalated.has(key),
    };
    if (!fate.delivered) {
      const missing = rows.filter((_, i) => counts[i] === 0);
      if (missing.length > 0 && missing.every((d) => escalated.has(`${key}:${d.team_id}`)))
        fate.undelivered = 'escalated';
      else if (missing.some((d) => UNFINISHED.has(d.state))) fate.undelivered = 'pending';
      else if (missing.some((d) => FAILED.has(d.state))) fate.undelivered = 'failed';
      else fate.undelivered = 'gone';
    }
    fates.set(ref, fate);
  }
  return fates;
}

/** The peers: matched by the referral's source reference, which each email carries (X-Bench-Ref). */
export function peerFates(
  accepted: { ref: string }[],
  jobs: PeerJobStates,
  arrivals: Arrival[],
): Map<string, Fate> {
  const byRef = new Map<string, Arrival[]>();
  for (const a of arrivals) if (a.ref) byRef.set(a.ref, [...(byRef.get(a.ref) ?? []), a]);
  const fates = new Map<string, Fate>();
  for (const { ref } of accepted) {
    const mine = byRef.get(ref) ?? [];
    const ids = countBy(mine, (a) => bare(a.messageId));
    const fate: Fate = {
      arrivals: mine.length,
      messageIds: ids.size,
      repeatedMessageId: [...ids.values()].some((c) => c > 1),
      delivered: mine.length > 0,
    };
    if (!fate.delivered)
      fate.undelivered = jobs.pending.has(ref) ? 'pending' : jobs.failed.has(ref) ? 'failed' : 'gone';
    fates.set(ref, fate);
  }
  return fates;
}

export function tally(fates: Map<string, Fate>): Tally {
  const all = [...fates.values()];
  const count = (p: (f: Fate) => boolean) => all.filter(p).length;
  const failed = count((f) => f.undelivered === 'failed');
  const gone = count((f) => f.undelivered === 'gone');
  const pending = count((f) => f.undelivered === 'pending');
  return {
    accepted: all.length,
    delivered: count((f) => f.delivered),
    duplicated: count((f) => f.arrivals > 1),
    duplicatedSameMessageId: count((f) => f.arrivals > 1 && f.repeatedMessageId),
    duplicatedDifferentMessageIds: count((f) => f.messageIds > 1),
    escalated: count((f) => f.undelivered === 'escalated'),
    pending,
    lost: failed + gone,
    failed,
    gone,
    stuckWithoutEscalation: pending + failed + gone,
    everEscalated: count((f) => f.everEscalated === true),
  };
}
