import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { londonDayWindow } from './schedule.ts';

/** Counts only: the summary goes by ordinary email, so it carries no personal data at all. */
export interface DailyCounts {
  date: string;
  /** Referrals received that London day. */
  received: number;
  /** Their copies to teams (one referral can go to two or three teams). */
  routed: number;
  /** Referral deliveries (email, webhook and MESH) that were handed over. */
  sent: number;
  /** Deliveries that failed or bounced. */
  undelivered: number;
  acknowledged: number;
  /** Acknowledged after the deadline. */
  acknowledgedLate: number;
  /** Not acknowledged yet, whether or not the deadline has passed. */
  unacknowledged: number;
  /** Not acknowledged and already past the deadline. */
  overdue: number;
  /** Referrals that went to the triage queue that day, and triage items still open now. */
  triaged: number;
  triageOpen: number;
  escalationsOpened: number;
  /** Open or claimed escalations now, by reason. */
  openEscalations: Record<string, number>;
  audit: { seq: number; hash: string } | null;
}

const countAll = sql<number>`count(*)`.as('n');
const n = (row: { n: number | string } | undefined) => Number(row?.n ?? 0);

async function routeCounts(db: Kysely<Database>, from: string, to: string, now: string) {
  const base = db
    .selectFrom('routes as r')
    .innerJoin('referrals as f', 'f.id', 'r.referral_id')
    .where('f.received_at', '>=', from)
    .where('f.received_at', '<', to);
  const [routed, acknowledged, late, unacknowledged, overdue] = await Promise.all([
    base.select(countAll).executeTakeFirst(),
    base.select(countAll).where('r.acknowledged_at', 'is not', null).executeTakeFirst(),
    base.select(countAll).whereRef('r.acknowledged_at', '>', 'r.ack_by').executeTakeFirst(),
    base.select(countAll).where('r.acknowledged_at', 'is', null).executeTakeFirst(),
    base
      .select(countAll)
      .where('r.acknowledged_at', 'is', null)
      .where('r.ack_by', '<', now)
      .executeTakeFirst(),
  ]);
  return {
    routed: n(routed),
    acknowledged: n(acknowledged),
    acknowledgedLate: n(late),
    unacknowledged: n(unacknowledged),
    overdue: n(overdue),
  };
}

async function deliveryCounts(db: Kysely<Database>, from: string, to: string) {
  const base = db
    .selectFrom('deliveries as d')
    .innerJoin('referrals as f', 'f.id', 'd.referral_id')
    .where('d.purpose', '=', 'referral')
    .where('f.received_at', '>=', from)
    .where('f.received_at', '<', to);
  const [sent, undelivered] = await Promise.all([
    base.select(countAll).where('d.sent_at', 'is not', null).executeTakeFirst(),
    base.select(countAll).where('d.state', 'in', ['failed', 'bounced']).executeTakeFirst(),
  ]);
  return { sent: n(sent), undelivered: n(undelivered) };
}

async function escalationCounts(db: Kysely<Database>, from: string, to: string) {
  const opened = await db
    .selectFrom('escalations')
    .select(countAll)
    .where('opened_at', '>=', from)
    .where('opened_at', '<', to)
    .executeTakeFirst();
  const open = await db
    .selectFrom('escalations')
    .select(['reason', countAll])
    .where('state', '!=', 'resolved')
    .groupBy('reason')
    .orderBy('reason')
    .execute();
  return {
    escalationsOpened: n(opened),
    openEscalations: Object.fromEntries(open.map((r) => [r.reason, n(r)])),
  };
}

/** The day's counts, with states as they stand at `now` (so "acknowledged" includes this morning's). */
export async function dailyCounts(db: Kysely<Database>, date: string, now: Date): Promise<DailyCounts> {
  const { from, to } = londonDayWindow(date);
  const received = await db
    .selectFrom('referrals')
    .select(countAll)
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .executeTakeFirst();
  const triaged = await db
    .selectFrom('triage_items')
    .select(countAll)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .executeTakeFirst();
  const triageOpen = await db
    .selectFrom('triage_items')
    .select(countAll)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return {
    date,
    received: n(received),
    ...(await routeCounts(db, from, to, now.toISOString())),
    ...(await deliveryCounts(db, from, to)),
    triaged: n(triaged),
    triageOpen: n(triageOpen),
    ...(await escalationCounts(db, from, to)),
    audit: head ? { seq: head.seq, hash: head.hash } : null,
  };
}
