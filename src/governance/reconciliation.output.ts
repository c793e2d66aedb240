import { formatLondon } from '../time.ts';
import type { Category } from './reconciliation.compare.ts';
import type { ReconciliationReport } from './reconciliation.ts';

export const REPORT_FORMATS = ['text', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function formatReport(report: ReconciliationReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return format === 'csv' ? reportCsv(report) : reportText(report);
}

/** What each category is called where people read it: the page, the CSV and the command's text. */
export const CATEGORY_TITLES: Record<Category, string> = {
  missing: 'Missing from Relay',
  notAcknowledged: 'Not yet acknowledged',
  acknowledgedLate: 'Acknowledged after the deadline',
  duplicates: 'Listed more than once in the file',
  notInFile: 'In Relay but not in the file',
  malformed: 'Rows that could not be read',
};

/** The CSV's category codes: stable, for filters in a spreadsheet or a script. */
const CATEGORY_CODES: Record<Category, string> = {
  missing: 'missing',
  notAcknowledged: 'not-acknowledged',
  acknowledgedLate: 'acknowledged-late',
  duplicates: 'duplicate',
  notInFile: 'not-in-file',
  malformed: 'malformed',
};

export interface FindingLine {
  category: Category;
  sourceSystem: string;
  sourceReference: string;
  relayReference: string;
  team: string;
  detail: string;
}

/** "2 h 5 min": lateness as a person reads it. */
export function formatMinutes(total: number): string {
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  if (hours === 0) return `${minutes} min`;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

function escalationText(report: ReconciliationReport, opened: boolean): string {
  if (report.preview) return 'escalation not opened (preview)';
  return opened ? 'escalation opened' : 'escalated by an earlier run';
}

/** Every finding as one line, in the order of the categories. */
export function findingLines(report: ReconciliationReport): FindingLine[] {
  const line = (category: Category, f: Partial<FindingLine> & { detail: string }): FindingLine => ({
    category,
    sourceSystem: '',
    sourceReference: '',
    relayReference: '',
    team: '',
    ...f,
  });
  return [
    ...report.missing.map((f) =>
      line('missing', {
        sourceSystem: f.system,
        sourceReference: f.sourceReference,
        detail: `line ${f.line}; created ${formatLondon(f.createdAt)}; ${escalationText(report, f.escalationOpened)}`,
      }),
    ),
    ...report.notAcknowledged.map((f) =>
      line('notAcknowledged', {
        sourceSystem: f.system,
        sourceReference: f.sourceReference,
        relayReference: f.reference,
        team: f.teamName ?? '',
        detail: f.ackBy
          ? `deadline ${formatLondon(f.ackBy)}${f.overdue ? ' (passed)' : ''}`
          : 'in triage: not routed to a team yet',
      }),
    ),
    ...report.acknowledgedLate.map((f) =>
      line('acknowledgedLate', {
        sourceSystem: f.system,
        sourceReference: f.sourceReference,
        relayReference: f.reference,
        team: f.teamName,
        detail: `${formatMinutes(f.lateMinutes)} late: deadline ${formatLondon(f.ackBy)}, acknowledged ${formatLondon(f.acknowledgedAt)}`,
      }),
    ),
    ...report.duplicates.map((f) =>
      line('duplicates', {
        sourceSystem: f.system,
        sourceReference: f.sourceReference,
        detail: `lines ${f.lines.join(', ')}`,
      }),
    ),
    ...report.notInFile.map((f) =>
      line('notInFile', {
        sourceSystem: f.system,
        sourceReference: f.sourceReference,
        relayReference: f.reference,
        detail: `received ${formatLondon(f.receivedAt)}`,
      }),
    ),
    ...report.malformed.map((f) =>
      line('malformed', { sourceReference: f.sourceReference ?? '', detail: `line ${f.line}: ${f.reason}` }),
    ),
  ];
}

/**
 * RFC 4180 with CRLF. A cell a spreadsheet would run as a formula (=, +, -, @) gets a leading
 * apostrophe: references come from another system's file, and opening the report must not run them.
 */
export function reportCsv(report: ReconciliationReport): string {
  const cell = (value: string) => {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const header = ['category', 'source_system', 'source_reference', 'relay_reference', 'team', 'detail'];
  const rows = findingLines(report).map((f) => [
    CATEGORY_CODES[f.category],
    f.sourceSystem,
    f.sourceReference,
    f.relayReference,
    f.team,
    f.detail,
  ]);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** The command's default output: a summary, then each category's findings. */
export function reportText(report: ReconciliationReport): string {
  const period = report.period
    ? `from ${formatLondon(report.period.from)} to ${formatLondon(report.period.to)} (London time)`
    : 'no rows could be read, so the file covers no period';
  const lines = [
    report.preview
      ? `Preview: nothing was opened or stored; ${report.counts.missing} missing-referral escalation${report.counts.missing === 1 ? '' : 's'} would be opened.`
      : `Reconciliation ${report.id}`,
    `Source system${report.systems.length === 1 ? '' : 's'}: ${report.systems.join(', ') || 'none'}; ${period}.`,
    `${report.rows} rows read, ${report.found} of ${report.references} references found in Relay.`,
    '',
    ...(Object.keys(CATEGORY_TITLES) as Category[]).map(
      (c) => `${`${CATEGORY_TITLES[c]}:`.padEnd(36)}${report.counts[c]}`,
    ),
  ];
  const findings = findingLines(report);
  for (const category of Object.keys(CATEGORY_TITLES) as Category[]) {
    const inCategory = findings.filter((f) => f.category === category);
    if (inCategory.length === 0) continue;
    lines.push('', CATEGORY_TITLES[category]);
    for (const f of inCategory) {
      const who = [f.sourceSystem, f.sourceReference, f.relayReference, f.team].filter(Boolean).join('  ');
      lines.push(`  ${who ? `${who}  ` : ''}${f.detail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
