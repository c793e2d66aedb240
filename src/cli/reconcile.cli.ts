import { readFile } from 'node:fs/promises';
import { withRuntime } from './command.ts';
import { formatReport, type ReportFormat } from '../governance/reconciliation.output.ts';
import { reconcile, ReconciliationInputError } from '../governance/reconciliation.ts';

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
  await withRuntime(async (ctx) => {
    const report = await reconcile(ctx, content, { system: options.system, actor: 'cli' }).catch(
      (error: unknown) => {
        if (!(error instanceof ReconciliationInputError)) throw error;
        const hint = error.field === 'system' && !options.system ? ' (give --system)' : '';
        throw new Error(`${file}: ${error.message}${hint}`, { cause: error });
      },
    );
    process.stdout.write(formatReport(report, options.format));
  });
}
