import { sql } from 'kysely';
import type { RelayContext } from '../../context.ts';
import { openEscalation } from '../../records/escalation.service.ts';

const REASON = 'test-alert-unacknowledged';
const BATCH = 100;

/**
 * One escalation per failed test alert: the occasion is the address and the alert, so an address
 * that dies again after being fixed is escalated again. The dedupe key is rebuilt in SQL so that
 * alerts already escalated drop out of the query instead of being re-read every sweep.
 */
export function occasionOf(address: string, testAlertId: string): string {
  return `${address}:${testAlertId}`;
}

const notYetEscalated = sql<boolean>`not exists (select 1 from escalations e where e.dedupe_key = '-:' || ta.team_id || ${`:${REASON}:`} || ta.address || ':' || ta.id)`;

// A later acknowledged test alert proves the address, so an older unanswered one no longer matters.
const notSinceProven = sql<boolean>`not exists (select 1 from test_alerts t2 where t2.team_id = ta.team_id and t2.address = ta.address and t2.created_at > ta.created_at and t2.acknowledged_at is not null)`;

/**
 * Test alerts past their deadline without an acknowledgement, or whose delivery failed or bounced
 * (a dead mailbox is plain before the deadline). While an address already has an open escalation
 * for this, the next week's unanswered alert waits rather than piling a second one on the same desk.
 */
export async function escalateUnacknowledgedTestAlerts(ctx: RelayContext, now: Date): Promise<number> {
  const db = ctx.db.kysely;
  const at = now.toISOString();
  const overdue = await db
    .selectFrom('test_alerts as ta')
    .innerJoin('deliveries as d', 'd.id', 'ta.delivery_id')
    .select(['ta.id', 'ta.team_id', 'ta.channel', 'ta.address', 'ta.ack_by', 'd.state'])
    .where('ta.acknowledged_at', 'is', null)
    .where((eb) => eb.or([eb('ta.ack_by', '<=', at), eb('d.state', 'in', ['failed', 'bounced'])]))
    .where(notYetEscalated)
    .where(notSinceProven)
    .orderBy('ta.created_at')
    .limit(BATCH)
    .execute();
  if (overdue.length === 0) return 0;
  const open = await openAddresses(ctx);
  let opened = 0;
  for (const alert of overdue) {
    if (open.has(`${alert.team_id}|${alert.address}`)) continue;
    const detail = {
      address: alert.address,
      channel: alert.channel,
      testAlert: alert.id,
      ackBy: alert.ack_by,
      deliveryState: alert.state,
    };
    const escalation = {
      referralId: null,
      teamId: alert.team_id,
      reason: REASON,
      detail,
      occasion: occasionOf(alert.address, alert.id),
    } as const;
    if (await db.transaction().execute((trx) => openEscalation(trx, escalation, now))) {
      opened += 1;
      open.add(`${alert.team_id}|${alert.address}`);
    }
  }
  return opened;
}

async function openAddresses(ctx: RelayContext): Promise<Set<string>> {
  const rows = await ctx.db.kysely
    .selectFrom('escalations')
    .select(['team_id', 'detail'])
    .where('reason', '=', REASON)
    .where('state', '!=', 'resolved')
    .execute();
  return new Set(rows.map((r) => `${r.team_id}|${(JSON.parse(r.detail) as { address?: string }).address}`));
}
