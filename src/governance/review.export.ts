import type { RelayContext } from '../context.ts';
import { appendAudit } from '../records/audit.ts';
import type { ExportFormat, ReviewActor } from './review.model.ts';
import { reviewCsv } from './review.csv.ts';
import { reviewPdf } from './review.pdf.ts';
import { loadReport } from './review.report.ts';

export interface ReviewExport {
  filename: string;
  contentType: string;
  body: string | Buffer;
}

/**
 * Renders a review as CSV or PDF and records the export in the audit log (who, which review, what
 * format, how many cases) before it is handed over: every export is on the audit chain
 * (docs/operations.md, Incident reviews and the audit log).
 */
export async function exportReview(
  ctx: RelayContext,
  reviewId: string,
  format: ExportFormat,
  by: ReviewActor,
  options: { compress?: boolean } = {},
): Promise<ReviewExport> {
  const report = await loadReport(ctx.db.kysely, reviewId);
  const now = ctx.clock.now();
  const body =
    format === 'csv'
      ? reviewCsv(report)
      : await reviewPdf(report, { generatedAt: now, generatedBy: by.name }, options);
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, now, {
      actor: by.actor,
      action: 'review.exported',
      entityType: 'review',
      entityId: reviewId,
      detail: { format, cases: report.cases.length },
    }),
  );
  // The title is free text, so the file is named by date and id only.
  const filename = `review-${report.review.createdAt.slice(0, 10)}-${reviewId.slice(0, 8)}.${format}`;
  const contentType = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/pdf';
  return { filename, contentType, body };
}
