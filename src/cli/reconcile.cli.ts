import { readFile } from 'node:fs/promises';
import { openRuntime } from './runtime.ts';
import { reportCsv, reportText } from '../governance/reconciliation.output.ts';
import { reconcile, ReconciliationInputError, type ReconciliationReport } from '../governance/reconciliation.ts';

export const REPORT_FORMATS = ['text', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function formatReport(report: ReconciliationReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return format === 'csv' ? reportCsv(report) : reportText(report);
}

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

/**
 * `relay reconcile FILE`: findings are the point of the command, so it exits 0 with them; it fails
 * (one line, non-zero) only when the file cannot be read or used.
 */
export async function reconcileCommand(
  file: string,
  options: { system?: string; format: ReportFormat },
): Promise<void> {
  const content = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${READ_PROBLEMS[error.code ?? ''] ?? error.message}`, {
      cause: error,
    });
  });
  const ctx = await openRuntime();
  try {
    const report = await reconcile(ctx, content, { system: options.system, actor: 'cli' });
    process.stdout.write(formatReport(report, options.format));
  } catch (error) {
    if (!(error instanceof ReconciliationInputError)) throw error;
    const hint = error.field === 'system' && !options.system ? ' (give --system)' : '';
    throw new Error(`${file}: ${error.message}${hint}`, { cause: error });
  } finally {
    await ctx.db.close();
  }
}
