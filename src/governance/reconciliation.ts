import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { openEscalation } from '../records/escalation.service.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { appendAudit } from '../records/audit.ts';
import {
  CATEGORIES,
  compare,
  type Category,
  type Findings,
  type MissingFinding,
  type SystemRow,
} from './reconciliation.compare.ts';
import { parseSourceExport, ReconciliationInputError, type SourceRow } from './reconciliation.csv.ts';
import {
  findRun,
  insertRun,
  isKnownSystem,
  referralsBySource,
  referralsReceivedIn,
  routesOfReferrals,
  systemsReceivedIn,
} from './reconciliation.queries.ts';

export { ReconciliationInputError };

export interface Period {
  from: string;
  to: string;
}

export interface ReconciliationSummary {
  systems: string[];
  /** From the earliest to the latest created_at of the rows read; null when no row could be read. */
  period: Period | null;
  /** Rows read (malformed rows excluded), and of their distinct references how many Relay has. */
  rows: number;
  references: number;
  found: number;
  counts: Record<Category, number>;
}

export interface ReconciliationReport extends ReconciliationSummary, Findings {
  /** Empty for a preview, which is not stored. */
  id: string;
  ranAt: string;
  /** A preview: nothing was opened or stored; `missing` lists the escalations a run would open. */
  preview?: boolean;
}

/**
 * `auto`: open the escalations at once, unless a person typed the source system the rows are filed
 * under and it would open any (a typo naming another real system makes every row "missing"): then
 * preview. `preview`: never change anything. `apply`: open them (the person saw the preview).
 */
export type ReconcileMode = 'auto' | 'preview' | 'apply';

export interface ReconcileOptions {
  /** The source system of rows the file does not name one for. */
  system?: string;
  /** As in the audit log: `cli` or `user:<id>`. */
  actor: string;
  /** `auto` when not given. */
  mode?: ReconcileMode;
}

/**
 * Reconciles a source system's export against Relay, opens a 'missing-referral' escalation for each
 * referral Relay never received, and records the run (audit entry and stored report) in one
 * transaction; or, as a preview (see ReconcileMode), only reports what it would open. Throws
 * ReconciliationInputError, having changed nothing, when the file is unusable.
 */
export async function reconcile(
  ctx: RelayContext,
  input: string | Buffer,
  options: ReconcileOptions,
): Promise<ReconciliationReport> {
  const db = ctx.db.kysely;
  const parsed = parseSourceExport(input);
  const period = periodOf(parsed.rows);
  const rows = await settleSystems(db, parsed.rows, period, options.system?.trim());
  const systems = [...new Set(rows.map((r) => r.system))].sort();
  for (const system of systems) {
    if (!(await isKnownSystem(db, system))) {
      throw new ReconciliationInputError(
        `Relay knows no source system called "${system}": no referral or API key names it`,
        'system',
      );
    }
  }
  const now = ctx.clock.now();
  const { findings, found } = await compareWithRelay(ctx, rows, systems, period, now);
  const summarise = (all: Findings): ReconciliationSummary => ({
    systems,
    period,
    rows: rows.length,
    references: rows.length - all.duplicates.reduce((n, d) => n + d.lines.length - 1, 0),
    found,
    counts: Object.fromEntries(CATEGORIES.map((c) => [c, all[c].length])) as Record<Category, number>,
  });
  const typed = Boolean(options.system?.trim()) && parsed.rows.some((r) => r.system === null);
  const mode = options.mode ?? 'auto';
  if (mode === 'preview' || (mode === 'auto' && typed && findings.missing.length > 0)) {
    const all: Findings = {
      ...findings,
      malformed: parsed.malformed,
      missing: findings.missing.map((row) => missingFinding(row, false)),
    };
    return { id: '', ranAt: now.toISOString(), preview: true, ...summarise(all), ...all };
  }
  const id = randomUUID();
  return db.transaction().execute(async (trx) => {
    const missing: MissingFinding[] = [];
    for (const row of findings.missing) missing.push(await escalateMissing(trx, row, id, now));
    const all: Findings = { ...findings, malformed: parsed.malformed, missing };
    const summary = summarise(all);
    const report: ReconciliationReport = { id, ranAt: now.toISOString(), ...summary, ...all };
    await recordRun(trx, report, summary, options.actor, now);
    return report;
  });
}

/** Reads what Relay holds for the file's references and period, and sorts the file against it. */
async function compareWithRelay(
  ctx: RelayContext,
  rows: SystemRow[],
  systems: string[],
  period: Period | null,
  now: Date,
) {
  const db = ctx.db.kysely;
  const names = await teamNames(ctx);
  const referencesOf = (system: string) => [
    ...new Set(rows.filter((r) => r.system === system).map((r) => r.sourceReference)),
  ];
  const found = (await Promise.all(systems.map((s) => referralsBySource(db, s, referencesOf(s))))).flat();
  const findings = compare({
    rows,
    found,
    inPeriod: period ? await referralsReceivedIn(db, systems, period) : [],
    routes: await routesOfReferrals(
      db,
      found.map((r) => r.id),
    ),
    now,
    teamName: (id) => names.get(id) ?? id,
  });
  return { findings, found: found.length };
}

/** The audit entry carries counts only; the stored report is what the page and downloads show. */
async function recordRun(
  trx: Kysely<Database>,
  report: ReconciliationReport,
  summary: ReconciliationSummary,
  actor: string,
  now: Date,
): Promise<void> {
  await appendAudit(trx, now, {
    actor,
    action: 'reconciliation.run',
    entityType: 'reconciliation',
    entityId: report.id,
    detail: { counts: summary.counts, rows: summary.rows, found: summary.found },
  });
  await insertRun(trx, { id: report.id, ranAt: report.ranAt, actor, summary, report });
}

export async function findReport(ctx: RelayContext, id: string): Promise<ReconciliationReport | undefined> {
  const row = await findRun(ctx.db.kysely, id);
  return row ? (JSON.parse(row.report) as ReconciliationReport) : undefined;
}

/**
 * From the earliest `created_at` to the end of the latest at the precision it was written with:
 * Relay stamps referrals to the millisecond, so a file written to the second must still cover a
 * referral received at 10:00:05.250 when its row says 10:00:05.
 */
function periodOf(rows: SourceRow[]): Period | null {
  if (rows.length === 0) return null;
  const from = rows.map((r) => r.createdAt).sort()[0] ?? '';
  const to =
    rows
      .map((r) => r.createdUntil)
      .sort()
      .at(-1) ?? '';
  return { from, to };
}

/**
 * Gives every row its source system: its own column, else the one asked for, else the only system
 * Relay received referrals from in the period. Guessing between several would file referrals
 * under the wrong system and open escalations for all of them, so that asks instead.
 */
async function settleSystems(
  db: Kysely<Database>,
  rows: SourceRow[],
  period: Period | null,
  asked: string | undefined,
): Promise<SystemRow[]> {
  let fallback = asked || undefined;
  if (!fallback && period && rows.some((r) => r.system === null)) {
    const present = await systemsReceivedIn(db, period);
    if (present.length !== 1 || !present[0]) {
      const seen =
        present.length === 0
          ? 'Relay received no referrals in the period it covers'
          : `Relay received referrals from ${present.join(', ')} in the period it covers`;
      throw new ReconciliationInputError(
        `say which source system the file comes from: it has no source_system column and ${seen}`,
        'system',
      );
    }
    fallback = present[0];
  }
  return rows.map((row) => ({ ...row, system: row.system ?? fallback ?? '' }));
}

/** Opens the escalation once per (system, reference): the occasion makes a second run a no-op. */
async function escalateMissing(
  trx: Kysely<Database>,
  row: SystemRow,
  run: string,
  now: Date,
): Promise<MissingFinding> {
  const opened = await openEscalation(
    trx,
    {
      referralId: null,
      teamId: null,
      reason: 'missing-referral',
      detail: {
        sourceSystem: row.system,
        sourceReference: row.sourceReference,
        createdAt: row.createdAt,
        reconciliation: run,
      },
      occasion: `${encodeURIComponent(row.system)}:${encodeURIComponent(row.sourceReference)}`,
    },
    now,
  );
  return missingFinding(row, opened);
}

function missingFinding(row: SystemRow, escalationOpened: boolean): MissingFinding {
  return {
    line: row.line,
    system: row.system,
    sourceReference: row.sourceReference,
    createdAt: row.createdAt,
    escalationOpened,
  };
}

async function teamNames(ctx: RelayContext): Promise<Map<string, string>> {
  const directory = (await ctx.directories.current())?.directory;
  return new Map(directory?.authorities.flatMap((a) => a.teams.map((t) => [t.id, t.name])));
}
