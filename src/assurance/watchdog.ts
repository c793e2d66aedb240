import { randomUUID } from 'node:crypto';
import type { RelayContext } from '../context.ts';
import { queueFollowUp } from '../delivery/delivery.repository.ts';
import type { Directory, Team } from '../directory/directory.types.ts';
import { isTeamOpen } from '../directory/hours.ts';
import { toError } from '../errors.ts';
import type { RouteRow } from '../referrals/referral.repository.ts';
import { findReferral } from '../referrals/referral.repository.ts';
import { openEscalation } from './escalation.service.ts';
import { withSweepLock } from '../cluster/sweep-lock.ts';
import { recordHeartbeat } from './heartbeat.ts';
import * as q from './watchdog.queries.ts';

export interface SweepReport {
  escalations: number;
  reminders: number;
  alerts: number;
}

export interface WatchdogLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Further jobs (test alerts, daily summary, manifests, silence) plug in here and run after each sweep. */
export type SweepJob = (ctx: RelayContext, now: Date) => Promise<unknown>;

const BATCH = 500;

/**
 * Finds everything past a deadline and puts it in front of a person: one escalation per
 * (referral, team, reason), reminders before the acknowledgement deadline, and at the deadline an
 * alert to the team's secondary address and, when the day team is closed, its out-of-hours team.
 * Every step is idempotent, so repeated or concurrent sweeps are harmless.
 */
export async function sweep(ctx: RelayContext): Promise<SweepReport> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const db = ctx.db.kysely;
  const report: SweepReport = { escalations: 0, reminders: 0, alerts: 0 };
  const open = async (
    referralId: string | null,
    teamId: string | null,
    reason: Parameters<typeof openEscalation>[1]['reason'],
    detail: Record<string, unknown>,
  ) => {
    const opened = await db
      .transaction()
      .execute((trx) => openEscalation(trx, { referralId, teamId, reason, detail }, now));
    if (opened) report.escalations += 1;
  };

  for (const d of await q.overdueUnsent(db, at, BATCH)) {
    await open(d.referral_id, d.team_id, 'not-sent', { delivery: d.id, state: d.state });
  }
  for (const state of ['failed', 'bounced'] as const) {
    for (const d of await q.undelivered(db, state, BATCH)) {
      await open(d.referral_id, d.team_id, state, { delivery: d.id });
    }
  }
  for (const route of await q.remindersDue(db, at, BATCH)) {
    if (await remind(ctx, route, now)) report.reminders += 1;
  }
  for (const route of await q.unacknowledgedPastDeadline(db, at, BATCH)) {
    report.alerts += await alertAtDeadline(ctx, route, now);
    await open(route.referral_id, route.team_id, 'not-acknowledged', { ackBy: route.ack_by });
  }
  for (const t of await q.overdueTriage(db, at, BATCH)) {
    await open(t.referral_id, null, 'triage-overdue', { triage: t.id, reason: t.reason });
  }
  if (report.reminders + report.alerts > 0) ctx.signals.emit('deliveries-queued');
  return report;
}

interface RouteContext {
  directory: Directory;
  team: Team;
}

async function routeContext(ctx: RelayContext, route: RouteRow): Promise<RouteContext | undefined> {
  const referral = await findReferral(ctx.db.kysely, route.referral_id);
  if (!referral?.directory_version) return undefined;
  const directory = await ctx.directories.version(referral.directory_version);
  const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === route.team_id);
  return team ? { directory, team } : undefined;
}

function emailOf(team: Team, role: 'primary' | 'secondary'): string | undefined {
  const channel = team.channels.find((c) => c.kind === 'email' && c.role === role);
  return channel?.kind === 'email' ? channel.address : undefined;
}

async function remind(ctx: RelayContext, route: RouteRow, now: Date): Promise<boolean> {
  const found = await routeContext(ctx, route);
  const address = found && emailOf(found.team, 'primary');
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('routes')
      .set({ reminded_at: now.toISOString() })
      .where('id', '=', route.id)
      .where('reminded_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n || !address) return false;
    await queueFollowUp(trx, followUp(ctx, route, route.team_id, address, 'reminder', now));
    return true;
  });
}

/** At the deadline: the team's secondary address, and out-of-hours cover if the day team is closed now. */
async function alertAtDeadline(ctx: RelayContext, route: RouteRow, now: Date): Promise<number> {
  const found = await routeContext(ctx, route);
  if (!found) return 0;
  const targets: { teamId: string; address: string; purpose: 'alert-secondary' | 'alert-out-of-hours' }[] =
    [];
  const secondary = emailOf(found.team, 'secondary');
  if (secondary) targets.push({ teamId: route.team_id, address: secondary, purpose: 'alert-secondary' });
  const cover = outOfHoursCover(found, route, now);
  if (cover) targets.push(cover);
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('routes')
      .set({ alerted_at: now.toISOString() })
      .where('id', '=', route.id)
      .where('alerted_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) return 0;
    for (const t of targets)
      await queueFollowUp(trx, followUp(ctx, route, t.teamId, t.address, t.purpose, now));
    return targets.length;
  });
}

function outOfHoursCover(found: RouteContext, route: RouteRow, now: Date) {
  if (found.team.kind === 'out-of-hours' || isTeamOpen(found.team, found.directory.bankHolidays, now))
    return undefined;
  const authority = found.directory.authorities.find((a) => a.id === found.team.authorityId);
  const cover = authority?.teams.find((t) => t.kind === 'out-of-hours');
  const address = cover && emailOf(cover, 'primary');
  return cover && address ? { teamId: cover.id, address, purpose: 'alert-out-of-hours' as const } : undefined;
}

function followUp(
  ctx: RelayContext,
  route: RouteRow,
  teamId: string,
  address: string,
  purpose: 'reminder' | 'alert-secondary' | 'alert-out-of-hours',
  now: Date,
) {
  return {
    referralId: route.referral_id,
    routeId: route.id,
    teamId,
    address,
    purpose,
    now,
    sendBy: new Date(now.getTime() + ctx.config.deadlines.sendByMs),
    messageDomain: ctx.config.bounceDomain,
  };
}

/** Runs the sweep every WATCHDOG_INTERVAL_MS, records its heartbeat, and never lets one failure stop it. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly node = `${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly ctx: RelayContext,
    private readonly logger: WatchdogLogger,
    private readonly jobs: SweepJob[] = [],
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.ctx.config.watchdogIntervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<void> {
    try {
      // On PostgreSQL one node sweeps at a time; the others skip it but still beat, ready to take over.
      await withSweepLock(this.ctx.db, () => this.sweepAndRunJobs());
      await recordHeartbeat(this.ctx, 'watchdog', this.node);
    } catch (error) {
      this.logger.error(
        { err: toError(error).message },
        'watchdog sweep failed; will try again next interval',
      );
    }
  }

  private async sweepAndRunJobs(): Promise<void> {
    const report = await sweep(this.ctx);
    for (const job of this.jobs) await job(this.ctx, this.ctx.clock.now());
    if (report.escalations + report.reminders + report.alerts > 0)
      this.logger.info({ ...report }, 'watchdog sweep');
  }
}
