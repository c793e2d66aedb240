import type { Command } from 'commander';
import { command } from './command.ts';

/**
 * `relay check [--quiet]`, for cron and monitoring: exit 0 when Relay is sweeping, sending and
 * escalating; otherwise exit 1 with one line saying why (on standard error, as every command's
 * failure). --quiet prints nothing when all is well, so cron mails only a problem or a warning
 * (exit 0, on standard output: a MESH client certificate expiring within 30 days).
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'Exit non-zero with a one-line reason when the last sweep or the dispatcher is stale, the database takes no writes, or a deadline passed without an escalation, or the MESH client certificate is expired or does not match its key; warn when it expires within 30 days (for cron and monitoring)',
    )
    .option('--quiet', 'print nothing when all is well')
    .action(
      command(async (options: { quiet?: boolean }) => {
        // Not openRuntime: a check never migrates, so it can run against a database it may not change.
        // Nor a whole RelayContext: it reads settings, database and clock, and loads nothing more.
        const { systemClock } = await import('../clock.ts');
        const { loadConfig } = await import('../config.ts');
        const { openDatabase } = await import('../db/database.ts');
        const { checkRelay } = await import('../assurance/check.ts');
        const config = loadConfig();
        const db = openDatabase(config.databaseUrl);
        try {
          const result = await checkRelay({ config, db, clock: systemClock });
          if (!result.ok) throw new Error(result.line);
          // A warning (a certificate to renew) is printed even with --quiet, so cron mails it in time.
          if (!options.quiet || result.warnings.length > 0) console.log(result.line);
        } finally {
          await db.close();
        }
      }),
    );
}
