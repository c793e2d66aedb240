import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { command, withRuntime } from './command.ts';
import { isValidIsoDate, londonToInstant } from '../directory/hours.ts';
import { EXPORT_FORMATS, REVIEW_CONDITIONS, type ExportFormat } from '../governance/review.model.ts';

/** The command line acts as `cli` in the audit log, as every other command does. */
const CLI = { actor: 'cli', name: 'Relay command line' };

function londonDay(value: string, edge: '00:00' | '24:00', name: string): Date {
  if (!isValidIsoDate(value)) throw new Error(`--${name} must be a date, YYYY-MM-DD`);
  return londonToInstant(value, edge);
}

/** `relay review create|list|export`: the web pages' reviews, for scripts and scheduled reports. */
export function registerReviewCommands(program: Command): void {
  const review = program.command('review').description('Incident reviews');
  review
    .command('create')
    .description('Create a review of the referrals received in a period (London days, both included)')
    .requiredOption('--title <title>', 'what the review is, e.g. "Failed deliveries, November 2026"')
    .requiredOption('--from <date>', 'first day of the period, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day of the period, YYYY-MM-DD')
    .addOption(
      new Option('--condition <condition...>', 'referrals to include (any of)')
        .choices(REVIEW_CONDITIONS)
        .makeOptionMandatory(),
    )
    .action(
      command(async (options: { title: string; from: string; to: string; condition: string[] }) =>
        withRuntime(async (ctx) => {
          const { createReview } = await import('../governance/review.service.ts');
          const created = await createReview(
            ctx,
            {
              title: options.title,
              from: londonDay(options.from, '00:00', 'from'),
              to: londonDay(options.to, '24:00', 'to'),
              conditions: options.condition,
            },
            CLI,
          );
          console.log(`Created review ${created.id} with ${created.caseCount} cases.`);
        }),
      ),
    );
  review
    .command('list')
    .description('List reviews, newest first: id, created, cases, per cent complete, title')
    .action(
      command(async () =>
        withRuntime(async (ctx) => {
          const { listReviews } = await import('../governance/review.queries.ts');
          for (const { review: r, progress } of await listReviews(ctx.db.kysely)) {
            console.log(
              [r.id, r.createdAt, progress.total, `${progress.percentComplete}%`, r.title].join('\t'),
            );
          }
        }),
      ),
    );
  review
    .command('export')
    .description('Write a review as CSV (cases) or PDF (report); audited as an export')
    .argument('<id>', 'the review id')
    .addOption(new Option('--format <format>', 'file format').choices(EXPORT_FORMATS).default('csv'))
    .option('--output <file>', 'write here (a PDF needs it; a CSV goes to standard output without it)')
    .action(
      command(async (id: string, options: { format: ExportFormat; output?: string }) => {
        if (options.format === 'pdf' && !options.output) throw new Error('a PDF needs --output FILE');
        await withRuntime(async (ctx) => {
          const { exportReview } = await import('../governance/review.export.ts');
          const file = await exportReview(ctx, id, options.format, CLI);
          if (options.output) await writeFile(options.output, file.body);
          else process.stdout.write(file.body);
        });
      }),
    );
}
