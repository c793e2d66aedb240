import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { appendAudit } from '../../records/audit.ts';
import { formatReport, type ReportFormat } from '../../governance/reconciliation.output.ts';
import { recentRuns } from '../../governance/reconciliation.queries.ts';
import {
  findReport,
  reconcile,
  ReconciliationInputError,
  type ReconciliationSummary,
} from '../../governance/reconciliation.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { errorList, formField, signedInUser } from './page.helpers.ts';
import { reportView } from './reconcile.view.ts';

/**
 * Multipart is not installed, so the file is pasted; form bodies are otherwise capped at 256 KiB,
 * which is a few thousand rows, so this one form takes more. URL-encoding grows a CSV export by
 * about a quarter, which leaves roughly 3 MB of file.
 */
const PASTE_LIMIT_BYTES = 4 * 1024 * 1024;
const PASTE_LIMIT_TEXT = 'about 3 MB';
const RECENT_RUNS = 10;
const FIELD_IDS = { csv: 'csv', system: 'system' };

interface IdParams {
  id: string;
}

const DOWNLOADS: Record<string, { format: ReportFormat; type: string }> = {
  'report.csv': { format: 'csv', type: 'text/csv; charset=utf-8' },
  'report.json': { format: 'json', type: 'application/json; charset=utf-8' },
};

/**
 * Reconciliation in the browser. Each run is stored, and the result page and its CSV and JSON are
 * read back from it: downloads are plain links that any node can answer, and they are exactly the
 * report shown, where re-posting the file would run it again against data that has moved on.
 */
export function registerReconcilePages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/safeguarding/reconcile', async (_request, reply) => formPage(ctx, reply));

  app.post(
    '/safeguarding/reconcile',
    { preValidation: csrfCheck(app), bodyLimit: PASTE_LIMIT_BYTES },
    async (request, reply) => {
      const form = { csv: rawField(request.body, 'csv'), system: formField(request.body, 'system') };
      if (!form.csv.trim()) return formPage(ctx, reply.code(422), form, { csv: 'Paste the CSV export' });
      try {
        const actor = `user:${signedInUser(request).id}`;
        // Confirmed from the preview a typed source system gets (ReconcileMode).
        const mode = formField(request.body, 'confirm') === 'yes' ? 'apply' : 'auto';
        const report = await reconcile(ctx, form.csv, { system: form.system || undefined, actor, mode });
        if (report.preview) {
          return reply.page('safeguarding/reconcile-report.njk', {
            pageTitle: 'Check before opening escalations',
            report: reportView(report),
            form,
          });
        }
        return reply.redirect(`/safeguarding/reconcile/${encodeURIComponent(report.id)}`, 303);
      } catch (error) {
        if (!(error instanceof ReconciliationInputError)) throw error;
        return formPage(ctx, reply.code(422), form, { [error.field]: capitalise(error.message) });
      }
    },
  );

  app.get<{ Params: IdParams }>('/safeguarding/reconcile/:id', async (request, reply) => {
    const report = await findReport(ctx, request.params.id);
    if (!report) throw new RelayError('not-found', 'No reconciliation with that id');
    return reply.page('safeguarding/reconcile-report.njk', {
      pageTitle: 'Reconciliation report',
      report: reportView(report),
    });
  });

  app.get<{ Params: IdParams & { file: string } }>(
    '/safeguarding/reconcile/:id/:file',
    async (request, reply) => {
      const download = DOWNLOADS[request.params.file];
      const report = download ? await findReport(ctx, request.params.id) : undefined;
      if (!download || !report) throw new RelayError('not-found', 'No such reconciliation report');
      // Exports are audited like every other (docs/operations.md, Incident reviews and the audit log); the report itself holds no personal data.
      await ctx.db.kysely.transaction().execute((trx) =>
        appendAudit(trx, ctx.clock.now(), {
          actor: `user:${signedInUser(request).id}`,
          action: 'reconciliation.exported',
          entityType: 'reconciliation',
          entityId: report.id,
          detail: { format: download.format },
        }),
      );
      const name = `reconciliation-${report.ranAt.slice(0, 10)}-${report.id.slice(0, 8)}.${download.format}`;
      return reply
        .type(download.type)
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(formatReport(report, download.format));
    },
  );
}

/** The pasted file as sent, untrimmed: leading blank lines count in the line numbers reported. */
function rawField(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

async function formPage(
  ctx: RelayContext,
  reply: FastifyReply,
  form = { csv: '', system: '' },
  errors: Record<string, string> = {},
) {
  const failed = Object.keys(errors).length > 0;
  const runs = await recentRuns(ctx.db.kysely, RECENT_RUNS);
  return reply.page('safeguarding/reconcile.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Reconcile with a source system`,
    form,
    errors,
    errorList: errorList(errors, FIELD_IDS),
    runs: runs.map((run) => ({
      id: run.id,
      ranAt: run.ran_at,
      by: run.actor === 'cli' ? 'Command line' : 'Web',
      ...(JSON.parse(run.summary) as ReconciliationSummary),
    })),
    limitText: PASTE_LIMIT_TEXT,
  });
}
