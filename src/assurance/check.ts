import { meshCertificateStatus } from '../config.mesh-certificate.ts';
import type { CoreContext } from '../context.ts';
import { probeWrites } from '../db/writable.ts';
import { latestVersion, loadDirectory } from '../directory/directory.repository.ts';
import { componentHealth } from './heartbeat.ts';
import { ageReason, judgeAge, skewToleranceMs } from './liveness.ts';
import { readSweepStatus } from './sweep-status.ts';
import * as q from './watchdog.queries.ts';

export interface CheckResult {
  ok: boolean;
  /** One line: what is wrong (each problem, `; `-separated), or a summary when all is well. */
  line: string;
  /** What needs doing soon but does not stop Relay yet (a certificate near expiry); also in `line`. */
  warnings: string[];
}

/** More than this many overdue items reads "500 or more": the count is for a person, not a ledger. */
const COUNT_LIMIT = 500;

/**
 * What `relay check` looks at, from the database, so it runs anywhere that can reach it (cron on
 * another machine, a monitoring agent): the last completed sweep and the dispatcher's heartbeat
 * within three watchdog intervals, the database taking writes, and no deadline passed more than
 * three intervals ago (a sweep's worth of slack) without an escalation. Counts and ages only, never
 * a referral's details.
 */
export async function checkRelay(ctx: CoreContext): Promise<CheckResult> {
  const limit = 3 * ctx.config.watchdogIntervalMs;
  const tolerance = skewToleranceMs(ctx.config);
  const [status, health, writable, missed] = await Promise.all([
    readSweepStatus(ctx.db.kysely, ctx.clock),
    componentHealth(ctx),
    probeWrites(ctx.db.kysely, ctx.clock),
    missedDeadlines(ctx, limit),
  ]);
  const problems: string[] = [];
  const sweepAge = status.completedMs === null ? null : status.nowMs - status.completedMs;
  const sweepVerdict = judgeAge(sweepAge, limit, tolerance);
  if (sweepVerdict !== 'fresh') problems.push(ageReason(sweepVerdict, 'completed sweep', sweepAge));
  const dispatcher = health.find((h) => h.component === 'dispatcher');
  const dispatcherVerdict = judgeAge(dispatcher?.ageMs ?? null, limit, tolerance);
  if (dispatcherVerdict !== 'fresh')
    problems.push(ageReason(dispatcherVerdict, 'dispatcher heartbeat', dispatcher?.ageMs ?? null));
  if (!writable) problems.push('the database does not accept writes (read-only or full)');
  if (missed.total > 0) problems.push(missedReason(missed));
  const unconfigured = await meshWithoutConfig(ctx);
  if (unconfigured) problems.push(unconfigured);
  const warnings: string[] = [];
  const certificate = meshCertificateStatus(ctx.config.mesh, ctx.clock.now());
  if (certificate?.state === 'expired' || certificate?.state === 'invalid') problems.push(certificate.detail);
  if (certificate?.state === 'expiring') warnings.push(`warning: ${certificate.detail}: renew it`);
  if (problems.length > 0) return { ok: false, line: [...problems, ...warnings].join('; '), warnings };
  const summary =
    `OK: ${ageReason('fresh', 'completed sweep', sweepAge)}, ` +
    `${ageReason('fresh', 'dispatcher heartbeat', dispatcher?.ageMs ?? null)}, ` +
    'no deadline passed without an escalation';
  return { ok: true, line: [summary, ...warnings].join('; '), warnings };
}

/**
 * A directory that sends to MESH mailboxes while MESH_URL and the rest are unset: every referral to
 * those teams would fail, so it is reported before the first one does.
 */
async function meshWithoutConfig(ctx: CoreContext): Promise<string | undefined> {
  if (ctx.config.mesh) return undefined;
  // Straight from the repository: a check needs the current teams, not the serving node's cache.
  const latest = await latestVersion(ctx.db.kysely);
  const directory = latest ? await loadDirectory(ctx.db.kysely, latest.id) : undefined;
  const teams = (directory?.authorities ?? [])
    .flatMap((a) => a.teams)
    .filter((t) => t.channels.some((c) => c.kind === 'mesh'))
    .map((t) => t.id);
  if (teams.length === 0) return undefined;
  return `MESH is not configured (MESH_URL, MESH_MAILBOX, MESH_PASSWORD, MESH_SHARED_KEY) but the directory sends to MESH for ${teams.join(', ')}`;
}

interface Missed {
  total: number;
  byReason: [string, number][];
}

/** Deadlines that passed more than `graceMs` ago and that no sweep has escalated yet. */
async function missedDeadlines(ctx: CoreContext, graceMs: number): Promise<Missed> {
  const db = ctx.db.kysely;
  const before = new Date(ctx.clock.now().getTime() - graceMs).toISOString();
  const counts: [string, number][] = [
    ['not-sent', (await q.overdueUnsent(db, before, COUNT_LIMIT)).length],
    ['not-acknowledged', (await q.unacknowledgedPastDeadline(db, before, COUNT_LIMIT)).length],
    ['triage-overdue', (await q.overdueTriage(db, before, COUNT_LIMIT)).length],
  ];
  const byReason = counts.filter(([, n]) => n > 0);
  return { total: byReason.reduce((sum, [, n]) => sum + n, 0), byReason };
}

function missedReason(missed: Missed): string {
  const detail = missed.byReason.map(([reason, n]) => `${reason}: ${n}`).join(', ');
  const many = missed.total === 1 ? 'deadline has' : 'deadlines have';
  return `${missed.total} ${many} passed more than three watchdog intervals ago without an escalation (${detail})`;
}
