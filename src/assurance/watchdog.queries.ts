import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DeliveryState } from '../db/codes.ts';

/** Sweeps look only at rows past a deadline that have no escalation for that reason yet. */
function noEscalation(referral: string, team: string | null, reason: string) {
  const teamPart = team ? sql.ref(team) : sql.lit('-');
  return sql<boolean>`not exists (select 1 from escalations e where e.dedupe_key = ${sql.ref(referral)} || ':' || ${teamPart} || ':' || ${sql.lit(reason)} || ':')`;
}

/** A referral closed by hand is watched no more, whatever its routes still lack. */
function stillOpen(referral: string) {
  return sql<boolean>`not exists (select 1 from referrals c where c.id = ${sql.ref(referral)} and c.closed_at is not null)`;
}

const LIVE: DeliveryState[] = ['queued', 'sending', 'retrying'];

export async function overdueUnsent(db: Kysely<Database>, now: string, limit: number) {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('routes as r', 'r.id', 'd.route_id')
    .select(['d.referral_id', 'd.team_id', 'd.id', 'd.state'])
    .where('d.purpose', '=', 'referral')
    .where('d.state', 'in', LIVE)
    .where('d.send_by', '<', now)
    .where('r.acknowledged_at', 'is', null)
    .where(noEscalation('d.referral_id', 'd.team_id', 'not-sent'))
    .where(stillOpen('d.referral_id'))
    .limit(limit)
    .execute();
}

export async function undelivered(db: Kysely<Database>, state: 'failed' | 'bounced', limit: number) {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('routes as r', 'r.id', 'd.route_id')
    .select(['d.referral_id', 'd.team_id', 'd.id', 'd.last_error'])
    .where('d.purpose', '=', 'referral')
    .where('d.state', '=', state)
    .where('r.acknowledged_at', 'is', null)
    .where(noEscalation('d.referral_id', 'd.team_id', state))
    .where(stillOpen('d.referral_id'))
    .limit(limit)
    .execute();
}

export async function remindersDue(db: Kysely<Database>, now: string, limit: number) {
  return db
    .selectFrom('routes')
    .selectAll()
    .where('acknowledged_at', 'is', null)
    .where('reminded_at', 'is', null)
    .where('reminder_at', '<=', now)
    .where('ack_by', '>', now)
    .where(stillOpen('routes.referral_id'))
    .limit(limit)
    .execute();
}

export async function unacknowledgedPastDeadline(db: Kysely<Database>, now: string, limit: number) {
  return db
    .selectFrom('routes')
    .selectAll()
    .where('acknowledged_at', 'is', null)
    .where('ack_by', '<=', now)
    .where(noEscalation('routes.referral_id', 'routes.team_id', 'not-acknowledged'))
    .where(stillOpen('routes.referral_id'))
    .limit(limit)
    .execute();
}

export async function overdueTriage(db: Kysely<Database>, now: string, limit: number) {
  return db
    .selectFrom('triage_items')
    .select(['id', 'referral_id', 'reason', 'triage_by'])
    .where('resolved_at', 'is', null)
    .where('triage_by', '<=', now)
    .where(noEscalation('triage_items.referral_id', null, 'triage-overdue'))
    .where(stillOpen('triage_items.referral_id'))
    .limit(limit)
    .execute();
}
