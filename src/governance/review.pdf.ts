import PDFDocument from 'pdfkit';
import {
  CASE_STATUSES,
  CONDITION_LABELS,
  periodDays,
  REVIEW_CONDITIONS,
  STATUS_LABELS,
  type ReviewCondition,
} from './review.model.ts';
import type { ReviewReport } from './review.report.ts';

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

const DAY = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

const london = (iso: string) => LONDON.format(new Date(iso));

/** "1 November 2026 to 30 November 2026" for whole days, otherwise the exact instants. */
function periodText(from: string, to: string): string {
  const days = periodDays(from, to);
  if (!days) return `${london(from)} up to ${london(to)}`;
  const day = (date: string) => DAY.format(new Date(`${date}T00:00:00Z`));
  return days.first === days.last ? day(days.first) : `${day(days.first)} to ${day(days.last)}`;
}

/**
 * PDF's built-in Helvetica covers Windows-1252 only; anything else (a name in another script)
 * would print as nonsense, so it is shown as "?" and the CSV keeps the exact text.
 */
function printable(text: string): string {
  return text.replace(
    /[^\x20-\x7e\u00a0-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac]/g,
    '?',
  );
}

type Doc = PDFKit.PDFDocument;

function heading(doc: Doc, text: string): void {
  doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).text(printable(text)).moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
}

function table(doc: Doc, widths: (number | string)[], head: string[], rows: (string | number)[][]): void {
  doc.table({
    columnStyles: widths,
    defaultStyle: { padding: 3, border: 0.5, borderColor: '#aeb7bd' },
    data: [
      head.map((text) => ({
        text,
        type: 'TH' as const,
        font: { family: 'Helvetica-Bold' },
        backgroundColor: '#e8edee',
      })),
      ...rows.map((row) => row.map((cell) => printable(String(cell)))),
    ],
  });
  doc.x = doc.page.margins.left;
}

function summary(doc: Doc, report: ReviewReport, meta: PdfMeta): void {
  const { review, progress } = report;
  doc.font('Helvetica-Bold').fontSize(18).text(printable(review.title));
  doc.font('Helvetica').fontSize(11).fillColor('#4c6272').text('Incident review report').fillColor('black');
  doc.moveDown(0.6).fontSize(10);
  const lines: [string, string][] = [
    ['Period (received)', periodText(review.from, review.to)],
    ['Conditions', review.conditions.map((c) => CONDITION_LABELS[c]).join('; ')],
    ['Created', `${london(review.createdAt)} by ${review.createdByName}`],
    ['Cases', `${progress.total}, ${progress.finished} finished (${progress.percentComplete}% complete)`],
    ['Report produced', `${london(meta.generatedAt.toISOString())} by ${meta.generatedBy}`],
  ];
  for (const [key, value] of lines) {
    doc.font('Helvetica-Bold').text(`${key}: `, { continued: true }).font('Helvetica').text(printable(value));
  }
}

function findings(doc: Doc, report: ReviewReport): void {
  heading(doc, 'Progress by status');
  table(
    doc,
    ['*', 80],
    ['Status', 'Cases'],
    CASE_STATUSES.map((s) => [STATUS_LABELS[s], report.progress.byStatus[s]]),
  );
  heading(doc, 'Findings');
  const by = report.progress.byStatus;
  table(
    doc,
    ['*', 80],
    ['Finding', 'Cases'],
    [
      ['Harm found', by['harm-found']],
      ['Action taken', by['action-taken']],
      ['No harm found', by['no-harm-found']],
      ['Not yet reviewed to a finding', report.progress.total - report.progress.finished],
    ],
  );
  heading(doc, 'Cases by condition (a case may meet several)');
  const shown = REVIEW_CONDITIONS.filter((c) => report.review.conditions.includes(c));
  table(
    doc,
    ['*', 80],
    ['Condition', 'Cases'],
    shown.map((c: ReviewCondition) => [CONDITION_LABELS[c], report.byCondition[c]]),
  );
}

function cases(doc: Doc, report: ReviewReport): void {
  heading(doc, 'Cases');
  if (report.cases.length === 0) {
    doc.text('No referral met the conditions in this period.');
    return;
  }
  table(
    doc,
    [30, 110, '*', 100, 80],
    ['#', 'Reference', 'Conditions', 'Reviewer', 'Status'],
    report.cases.map((c) => [
      c.position,
      c.referralId ? c.reference : `${c.reference} (not in Relay)`,
      c.conditions.map((k) => CONDITION_LABELS[k]).join('; '),
      c.reviewerName ?? 'Not assigned',
      STATUS_LABELS[c.status],
    ]),
  );
}

/** Page numbers go on once every page exists, which is what bufferPages is for. */
function footers(doc: Doc, fullTitle: string): void {
  const title = fullTitle.length > 60 ? `${fullTitle.slice(0, 59)}…` : fullTitle;
  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .fontSize(8)
      .fillColor('#4c6272')
      .text(
        printable(`Safeguard Relay · ${title} · page ${i + 1} of ${range.count}`),
        doc.page.margins.left,
        doc.page.height - 30,
        {
          width: doc.page.width - doc.page.margins.left - doc.page.margins.right,
          align: 'center',
          lineBreak: false,
        },
      );
    doc.page.margins.bottom = bottom;
  }
}

export interface PdfMeta {
  generatedAt: Date;
  generatedBy: string;
}

/**
 * The review as a PDF for a board or the regulator: what was reviewed, how far it has got, what
 * was found, and every case by reference. No referral content and no notes, as in the CSV.
 * `compress: false` leaves the text streams readable (tests use it).
 */
export async function reviewPdf(
  report: ReviewReport,
  meta: PdfMeta,
  options: { compress?: boolean } = {},
): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    bufferPages: true,
    compress: options.compress ?? true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: printable(report.review.title),
      Subject: 'Incident review report',
      Creator: 'Safeguard Relay',
      CreationDate: meta.generatedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  summary(doc, report, meta);
  findings(doc, report);
  cases(doc, report);
  footers(doc, report.review.title);
  doc.end();
  return done;
}
