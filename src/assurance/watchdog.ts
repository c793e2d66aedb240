import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { targetsOf, type Target } from '../directory/targets.ts';
import type { FollowUpKind } from '../db/codes.ts';
import { queueFollowUp, type FollowUp } from '../records/delivery.repository.ts';
import type { Directory, Team } from '../directory/directory.types.ts';
import { isTeamOpen } from '../directory/hours.ts';
import { toError } from '../errors.ts';
import type { RouteRow } from '../records/referral.repository.ts';
import { findReferral } from '../records/referral.repository.ts';
import { openEscalation } from '../records/escalation.service.ts';
import * as q from './watchdog.queries.ts';

/** The steps of a deadline sweep, each counted apart in `relay_sweep_errors_total`. */
export const SWEEP_STEPS = [
  'not-sent',
  'failed',
  'bounced',
  'reminder',
  'alert',
  'not-acknowledged',
  'triage-overdue',
] as const;
export type SweepStep = (typeof SWEEP_STEPS)[number];

/** Where an error is counted: a sweep step, a job after it, the sweep as a whole, or the dead man's switch. */
export const ERROR_STEPS = [...SWEEP_STEPS, 'job', 'sweep', 'heartbeat-url'] as const;
export type ErrorStep = (typeof ERROR_STEPS)[number];

export interface SweepError {
  step: ErrorStep;
  /** The row (delivery, route, triage item) or job that threw; an id, never personal data. */
  item?: string;
  message: string;
}

export interface SweepReport {
  escalations: number;
  reminders: number;
  alerts: number;
  /** Every item that threw; the sweep carried on past each one. */
  errors: SweepError[];
  /** Steps whose query failed, so none of their items was looked at: the sweep is not complete. */
  failedSteps: SweepStep[];
}

export interface WatchdogLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Further jobs (test alerts, daily summary, manifests, silence) plug in here and run after each sweep. */
export type SweepJob = (ctx: RelayContext, now: Date) => Promise<unknown>;

export interface NamedSweepJob {
  name: string;
  run: SweepJob;
}

/** Runs one write of the sweep in a transaction; a node that sweeps under a lease checks it there. */
export type SweepWriter = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

export interface SweepOptions {
  write?: SweepWriter;
  /** Errors that must stop the sweep rather than be counted and passed over (a lost lease). */
  isFatal?: (error: unknown) => boolean;
}

const BATCH = 500;

/** Runs each step and each item on its own, so one that throws is counted and the rest still run. */
class Steps {
  constructor(
    readonly report: SweepReport,
    private readonly isFatal: (error: unknown) => boolean,
  ) {}

  async load<T>(step: SweepStep, query: () => Promise<T[]>): Promise<T[]> {
    try {
      return await query();
    } catch (error) {
      if (this.isFatal(error)) throw error;
      this.report.failedSteps.push(step);
      this.report.errors.push({ step, message: toError(error).message });
      return [];
    }
  }

  async attempt(step: SweepStep, item: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (this.isFatal(error)) throw error;
      this.report.errors.push({ step, item, message: toError(error).message });
    }
  }
}

/**
 * Finds everything past a deadline and puts it in front of a person: one escalation per
 * (referral, team, reason), reminders before the acknowledgement deadline, and at the deadline an
 * alert to the team's secondary address and, when the day team is closed, its out-of-hours team.
 * Every step is idempotent, so repeated or concurrent sweeps are harmless. Each item is isolated:
 * one that throws is reported and the rest, triage included, are still looked at.
 */
export async function sweep(ctx: RelayContext, options: SweepOptions = {}): Promise<SweepReport> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const db = ctx.db.kysely;
  const write: SweepWriter = options.write ?? ((work) => db.transaction().execute(work));
  const report: SweepReport = { escalations: 0, reminders: 0, alerts: 0, errors: [], failedSteps: [] };
  const steps = new Steps(report, options.isFatal ?? (() => false));
  const open = async (
    referralId: string | null,
    teamId: string | null,
    reason: Parameters<typeof openEscalation>[1]['reason'],
    detail: Record<string, unknown>,
  ) => {
    const opened = await write((trx) => openEscalation(trx, { referralId, teamId, reason, detail }, now));
    if (opened) report.escalations += 1;
  };

  for (const d of await steps.load('not-sent', () => q.overdueUnsent(db, at, BATCH))) {
    await steps.attempt('not-sent', d.id, () =>
      open(d.referral_id, d.team_id, 'not-sent', { delivery: d.id, state: d.state }),
    );
  }
  for (const state of ['failed', 'bounced'] as const) {
    for (const d of await steps.load(state, () => q.undelivered(db, state, BATCH))) {
      await steps.attempt(state, d.id, () => open(d.referral_id, d.team_id, state, { delivery: d.id }));
    }
  }
  for (const route of await steps.load('reminder', () => q.remindersDue(db, at, BATCH))) {
    await steps.attempt('reminder', route.id, async () => {
      if (await remind(ctx, write, route, now)) report.reminders += 1;
    });
  }
  for (const route of await steps.load('not-acknowledged', () =>
    q.unacknowledgedPastDeadline(db, at, BATCH),
  )) {
    // The escalation opens even when the alert cannot be queued: a person must see it either way.
    await steps.attempt('alert', route.id, async () => {
      report.alerts += await alertAtDeadline(ctx, write, route, now);
    });
    await steps.attempt('not-acknowledged', route.id, () =>
      open(route.referral_id, route.team_id, 'not-acknowledged', { ackBy: route.ack_by }),
    );
  }
  for (const t of await steps.load('triage-overdue', () => q.overdueTriage(db, at, BATCH))) {
    await steps.attempt('triage-overdue', t.id, () =>
      open(t.referral_id, null, 'triage-overdue', { triage: t.id, reason: t.reason }),
    );
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

/** Where a team's reminder or alert goes: each channel says which of its addresses take one. */
function followUpTargets(team: Team, teamId: string, purpose: FollowUpKind): FollowUpTarget[] {
  return targetsOf(team, purpose).map((t) => ({ ...t, teamId, purpose }));
}

interface FollowUpTarget extends Target {
  teamId: string;
  purpose: FollowUpKind;
}

async function remind(ctx: RelayContext, write: SweepWriter, route: RouteRow, now: Date): Promise<boolean> {
  const found = await routeContext(ctx, route);
  const targets = found ? followUpTargets(found.team, route.team_id, 'reminder') : [];
  return write(async (trx) => {
    const claimed = await trx
      .updateTable('routes')
      .set({ reminded_at: now.toISOString() })
      .where('id', '=', route.id)
      .where('reminded_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n || targets.length === 0) return false;
    for (const t of targets) await queueFollowUp(trx, followUp(ctx, route, t, now));
    return true;
  });
}

/** At the deadline: the team's secondary address, and out-of-hours cover if the day team is closed now. */
async function alertAtDeadline(
  ctx: RelayContext,
  write: SweepWriter,
  route: RouteRow,
  now: Date,
): Promise<number> {
  const found = await routeContext(ctx, route);
  if (!found) return 0;
  const targets = [
    ...followUpTargets(found.team, route.team_id, 'alert-secondary'),
    ...outOfHoursCover(found, route, now),
  ];
  return write(async (trx) => {
    const claimed = await trx
      .updateTable('routes')
      .set({ alerted_at: now.toISOString() })
      .where('id', '=', route.id)
      .where('alerted_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) return 0;
    for (const t of targets) await queueFollowUp(trx, followUp(ctx, route, t, now));
    return targets.length;
  });
}

function outOfHoursCover(found: RouteContext, route: RouteRow, now: Date): FollowUpTarget[] {
  if (found.team.kind === 'out-of-hours' || isTeamOpen(found.team, found.directory.bankHolidays, now))
    return [];
  const authority = found.directory.authorities.find((a) => a.id === found.team.authorityId);
  const cover = authority?.teams.find((t) => t.kind === 'out-of-hours');
  return cover ? followUpTargets(cover, cover.id, 'alert-out-of-hours') : [];
}

function followUp(ctx: RelayContext, route: RouteRow, target: FollowUpTarget, now: Date): FollowUp {
  return {
    referralId: route.referral_id,
    routeId: route.id,
    ...target,
    now,
    sendBy: new Date(now.getTime() + ctx.config.deadlines.sendByMs),
    messageDomain: ctx.config.bounceDomain,
  };
}
