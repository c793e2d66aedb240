import { readFile } from 'node:fs/promises';
import { openRuntime } from './runtime.ts';
import { formatReport, type ReportFormat } from '../governance/reconciliation.output.ts';
import { reconcile, ReconciliationInputError, type ReconcileMode } from '../governance/reconciliation.ts';

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

export interface ReconcileCommandOptions {
  system?: string;
  apply?: boolean;
  dryRun?: boolean;
  format: ReportFormat;
}

/**
 * `relay reconcile FILE`: findings are the point of the command, so it exits 0 with them; it fails
 * (one line, non-zero) only when the file cannot be read or used. A preview (ReconcileMode) says so
 * on stderr, so the report on stdout stays the same shape for scripts.
 */
export async function reconcileCommand(file: string, options: ReconcileCommandOptions): Promise<void> {
  const content = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${READ_PROBLEMS[error.code ?? ''] ?? error.message}`, {
      cause: error,
    });
  });
  const ctx = await openRuntime();
  try {
    const mode = options.dryRun ? 'preview' : options.apply ? 'apply' : 'auto';
    const report = await reconcile(ctx, content, { system: options.system, actor: 'cli', mode });
    process.stdout.write(formatReport(report, options.format));
    if (report.preview) process.stderr.write(previewNote(report.counts.missing, mode));
  } catch (error) {
    if (!(error instanceof ReconciliationInputError)) throw error;
    const hint = error.field === 'system' && !options.system ? ' (give --system)' : '';
    throw new Error(`${file}: ${error.message}${hint}`, { cause: error });
  } finally {
    await ctx.db.close();
  }
}

function previewNote(missing: number, mode: ReconcileMode): string {
  const escalations = `${missing} missing-referral escalation${missing === 1 ? '' : 's'}`;
  if (mode === 'preview')
    return `relay: dry run: nothing was opened or stored (${escalations} would be opened)\n`;
  return (
    `relay: preview only: ${escalations} not opened, since the source system was given by --system; ` +
    'check it is right, then run again with --apply\n'
  );
}
