import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import { targetsOf, type Target } from '../../directory/targets.ts';
import { queueFollowUp } from '../../records/delivery.repository.ts';
import type { BankHoliday, Directory, Team } from '../../directory/directory.types.ts';
import { effectiveHours } from '../../directory/hours.ts';
import { DAY } from '../../time.ts';
import { ackBy } from '../../directory/deadlines.ts';
import type { SweepJob } from '../watchdog.ts';
import { escalateUnacknowledgedTestAlerts } from './test-alerts.escalate.ts';

/** A fresh install has ~85 addresses; a few per sweep spreads them over a minute or two, not one burst. */
export const TEST_ALERTS_PER_SWEEP = 20;

export interface TestAddress extends Target {
  team: Team;
}

/** Every address a referral or alert could be sent to, as each channel says: email, webhook and MESH alike. */
export function activeAddresses(directory: Directory): TestAddress[] {
  return directory.authorities.flatMap((a) =>
    a.teams.flatMap((team) => targetsOf(team, 'test-alert').map((target) => ({ team, ...target }))),
  );
}

const keyOf = (teamId: string, channel: string, address: string) => `${teamId}|${channel}|${address}`;

async function lastAlerts(db: Kysely<Database>): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('test_alerts')
    .select(['team_id', 'channel', 'address', (eb) => eb.fn.max('created_at').as('last')])
    .groupBy(['team_id', 'channel', 'address'])
    .execute();
  return new Map(rows.map((r) => [keyOf(r.team_id, r.channel, r.address), String(r.last)]));
}

/** Acknowledge like a routine referral; a team that never closes has no "next working day", so 24 h. */
function testAlertAckBy(
  ctx: RelayContext,
  team: Team,
  bankHolidays: readonly BankHoliday[],
  now: Date,
): Date {
  if (effectiveHours(team).always === true) return new Date(now.getTime() + DAY);
  return ackBy(now, 'routine', team, bankHolidays, ctx.config.deadlines);
}

/**
 * Creates one test alert and its delivery. The scheduled_runs row (address, "after <last alert>")
 * is claimed in the same transaction, so two nodes sweeping at once cannot both send the next one.
 */
async function createTestAlert(
  ctx: RelayContext,
  target: TestAddress,
  last: string | undefined,
  bankHolidays: readonly BankHoliday[],
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const claimed = await trx
      .insertInto('scheduled_runs')
      .values({
        job: `test-alert:${keyOf(target.team.id, target.channel, target.address)}`,
        period: last ? `after ${last}` : 'first',
        ran_at: at,
        detail: '{}',
      })
      .onConflict((oc) => oc.columns(['job', 'period']).doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    const deliveryId = await queueFollowUp(trx, {
      referralId: null,
      routeId: null,
      teamId: target.team.id,
      channel: target.channel,
      address: target.address,
      purpose: 'test-alert',
      now,
      sendBy: new Date(now.getTime() + ctx.config.deadlines.sendByMs),
      messageDomain: ctx.config.bounceDomain,
    });
    if (!deliveryId) return false;
    await trx
      .insertInto('test_alerts')
      .values({
        id: randomUUID(),
        team_id: target.team.id,
        channel: target.channel,
        address: target.address,
        delivery_id: deliveryId,
        created_at: at,
        ack_by: testAlertAckBy(ctx, target.team, bankHolidays, now).toISOString(),
        acknowledged_at: null,
        acknowledged_by: null,
      })
      .execute();
    return true;
  });
}

/** Sends due test alerts, at most TEST_ALERTS_PER_SWEEP; returns when the next one falls due. */
async function sendDueTestAlerts(ctx: RelayContext, directory: Directory, intervalMs: number, now: Date) {
  const last = await lastAlerts(ctx.db.kysely);
  const nowMs = now.getTime();
  let created = 0;
  let nextDue = Infinity;
  for (const target of activeAddresses(directory)) {
    const previous = last.get(keyOf(target.team.id, target.channel, target.address));
    const dueAt = previous ? Date.parse(previous) + intervalMs : nowMs;
    if (dueAt > nowMs) {
      nextDue = Math.min(nextDue, dueAt);
    } else if (created >= TEST_ALERTS_PER_SWEEP) {
      nextDue = nowMs;
    } else {
      if (await createTestAlert(ctx, target, previous, directory.bankHolidays, now)) created += 1;
      nextDue = Math.min(nextDue, nowMs + intervalMs);
    }
  }
  if (created > 0) ctx.signals.emit('deliveries-queued');
  return { created, nextDue };
}

/**
 * Proves every destination before a real referral needs it (docs/operations.md, Assurance jobs): each active address gets a
 * test alert every TEST_ALERT_INTERVAL, and one not acknowledged in time opens an escalation.
 * Between due times a sweep costs two small queries: overdue alerts, and the directory version.
 */
export function testAlertsJob(): SweepJob {
  let known: { versionId: number; nextDue: number } | undefined;
  return async (ctx, now) => {
    const escalated = await escalateUnacknowledgedTestAlerts(ctx, now);
    const intervalMs = ctx.config.assurance.testAlertIntervalMs;
    if (intervalMs === null) return { created: 0, escalated };
    const current = await ctx.directories.current();
    if (!current) return { created: 0, escalated };
    const unchanged = known?.versionId === current.versionId;
    if (unchanged && known && known.nextDue > now.getTime()) return { created: 0, escalated };
    const { created, nextDue } = await sendDueTestAlerts(ctx, current.directory, intervalMs, now);
    known = { versionId: current.versionId, nextDue };
    return { created, escalated };
  };
}
