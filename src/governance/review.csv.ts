import type { ReviewReport } from './review.report.ts';

const COLUMNS = [
  'case',
  'reference',
  'in_relay',
  'source_system',
  'source_reference',
  'received_at',
  'urgency',
  'conditions',
  'reviewer',
  'status',
  'notes',
  'updated_at',
] as const;

/**
 * One CSV cell (RFC 4180). A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is
 * prefixed with an apostrophe: reviewer names are typed by people, and the file is opened in Excel.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The review's cases, one row each, with codes rather than labels so the file sorts and filters
 * well. Notes are counted, never copied: they may name people. A byte-order mark lets Excel read
 * non-ASCII names as UTF-8.
 */
export function reviewCsv(report: ReviewReport): string {
  const rows = report.cases.map((c) => [
    c.position,
    c.reference,
    c.referralId ? 'yes' : 'no',
    c.sourceSystem,
    c.sourceReference,
    c.receivedAt,
    c.urgency,
    c.conditions.join(';'),
    c.reviewerName,
    c.status,
    c.notes,
    c.updatedAt,
  ]);
  return '\ufeff' + [COLUMNS, ...rows].map((row) => row.map(csvCell).join(',') + '\r\n').join('');
}
