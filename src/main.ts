import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from './access/apikey.service.ts';
import { command, openRuntime } from './cli/runtime.ts';
import { loadConfig, type Config } from './config.ts';
import { start, type Role } from './cli/start.ts';
import { startDrill } from './cli/drill.ts';
import { registerUserCommands } from './cli/user.cli.ts';
import { openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import {
  DEMO_DIRECTORY_PATH,
  importDirectory,
  readDirectoryFile,
  TeamsInUseError,
} from './directory/directory.service.ts';
import { importReport } from './directory/directory.report.ts';
import { anchorHead, formatAnchor, parseAnchor, verifyAuditChain } from './records/audit.ts';
import { registerReviewCommands } from './cli/review.cli.ts';
import { registerOncallCommands } from './cli/oncall.cli.ts';
import { registerIdentityCommands } from './cli/identity.cli.ts';
import { registerCheckCommand } from './cli/check.cli.ts';
import { registerPersonalDataCommands } from './cli/personal-data.cli.ts';
import { reconcileCommand, type ReconcileCommandOptions } from './cli/reconcile.cli.ts';
import { REPORT_FORMATS } from './governance/reconciliation.output.ts';
import { createUser } from './access/user.service.ts';

const program = new Command('relay')
  .description(
    'Safeguard Relay: carries safeguarding referrals to the right team and proves each one arrived.',
  )
  .showHelpAfterError()
  .configureOutput({
    outputError: (text, write) => write(`relay: ${text.replace(/^error: /, '').split('\n')[0]}\n`),
  });

program
  .command('start')
  .description('Run the web app, API, dispatcher and watchdog (configured by environment variables)')
  .option('--demo', 'on an empty database, load the demo directory and demo API keys (never in production)')
  .addOption(
    new Option('--role <role>', 'what this node runs').choices(['web', 'worker', 'all']).default('all'),
  )
  .option('--drill', 'read and show a restored copy and send nothing (as RELAY_MODE=drill)')
  .action(
    command(async (options: { demo?: boolean; role: Role; drill?: boolean }) => {
      const ctx = await openRuntime({
        ...(options.demo ? demoOverrides() : {}),
        ...(options.drill ? { mode: 'drill' as const } : {}),
      });
      try {
        if (ctx.config.mode === 'drill') {
          if (options.demo) throw new Error('--demo and drill mode contradict each other');
          await startDrill(ctx);
          return;
        }
        await start(ctx, { demo: options.demo === true, role: options.role });
      } catch (error) {
        // Open pool connections would keep a failed start alive; close them so it exits at once.
        await ctx.db.close();
        throw error;
      }
    }),
  );

/**
 * The demo's 85 fictional addresses would fill the Mailbox with test alerts within a minute and
 * bury the referral a newcomer is following, so the demo leaves them off unless asked for.
 */
function demoOverrides(): Partial<Config> {
  if (process.env.TEST_ALERT_INTERVAL) return {};
  const config = loadConfig();
  if (config.env === 'production') return {};
  return { assurance: { ...config.assurance, testAlertIntervalMs: null } };
}

program
  .command('migrate')
  .description('Bring the database schema up to date (start does this too)')
  .action(
    command(async () => {
      // Not openRuntime: it migrates first, which would leave nothing here to apply or report.
      const config = loadConfig();
      const db = openDatabase(config.databaseUrl);
      try {
        const applied = await migrateToLatest(db, config);
        console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await db.close();
      }
    }),
  );

const directory = program.command('directory').description('Manage the directory of authorities and teams');
directory
  .command('import')
  .description('Import a directory file (JSON) as a new directory version')
  .argument('[file]', 'the directory file')
  .option('--demo', 'import the shipped West Midlands demo directory')
  .option('--dry-run', 'check the file and say what would happen, writing nothing')
  .option('--force', 'remove or rename teams that still have open referrals, users or API keys')
  .option('--reason <text>', 'why the import is forced (required with --force; audited)')
  .action(
    command(
      async (
        file: string | undefined,
        options: { demo?: boolean; dryRun?: boolean; force?: boolean; reason?: string },
      ) => {
        if (!file && !options.demo) throw new Error('give a FILE or --demo');
        if (options.force && !options.reason?.trim()) throw new Error('--force needs --reason TEXT');
        const path = options.demo ? DEMO_DIRECTORY_PATH : (file as string);
        const ctx = await openRuntime();
        if (options.demo && ctx.config.env === 'production')
          throw new Error('demo data is never loaded in production');
        try {
          const json = await readDirectoryFile(path);
          const result = await importDirectory(ctx.db.kysely, ctx.clock, json, {
            actor: 'cli',
            source: path,
            dryRun: options.dryRun === true,
            ...(options.force ? { force: { reason: options.reason ?? '' } } : {}),
          }).catch((error: unknown) => {
            if (error instanceof TeamsInUseError)
              throw new Error(`${error.message} (--force --reason TEXT to import anyway)`);
            throw error;
          });
          for (const line of importReport(result, options.dryRun === true)) console.log(line);
        } finally {
          await ctx.db.close();
        }
      },
    ),
  );

const apikey = program.command('apikey').description('Manage API keys');
apikey
  .command('create')
  .description('Create an API key; prints the key once, alone on standard output')
  .requiredOption('--name <name>', 'who or what uses the key')
  .requiredOption(
    '--scope <scope>',
    'referrals:write (a source system), acknowledgements:write (a team) or escalations:write (safeguarding team tooling)',
  )
  .option('--team <team>', 'team id the key acts for (required for acknowledgements:write)')
  .option(
    '--system <system>',
    'the source.system a referrals:write key raises and reads referrals for (required for referrals:write)',
  )
  .action(
    command(async (options: { name: string; scope: string; team?: string; system?: string }) => {
      const ctx = await openRuntime();
      try {
        const teamExists = async (teamId: string) => {
          const current = await ctx.directories.current();
          return current?.directory.authorities.some((a) => a.teams.some((t) => t.id === teamId)) ?? false;
        };
        const { key } = await createApiKey(
          ctx.db.kysely,
          ctx.clock,
          { name: options.name, scope: options.scope, teamId: options.team, sourceSystem: options.system },
          'cli',
          teamExists,
        );
        console.log(key);
      } finally {
        await ctx.db.close();
      }
    }),
  );
apikey
  .command('revoke')
  .description('Revoke an API key by id')
  .argument('<id>')
  .action(
    command(async (id: string) => {
      const ctx = await openRuntime();
      try {
        await revokeApiKey(ctx.db.kysely, ctx.clock, id, 'cli');
        console.log(`Revoked ${id}.`);
      } finally {
        await ctx.db.close();
      }
    }),
  );
apikey
  .command('list')
  .description('List API keys (never the keys themselves)')
  .action(
    command(async () => {
      const ctx = await openRuntime();
      try {
        for (const k of await listApiKeys(ctx.db.kysely)) {
          const state = k.revokedAt ? `revoked ${k.revokedAt}` : 'active';
          console.log([k.id, k.scope, k.teamId ?? k.sourceSystem ?? '-', state, k.name].join('\t'));
        }
      } finally {
        await ctx.db.close();
      }
    }),
  );

const user = program.command('user').description('Manage people who sign in to the web app');
registerUserCommands(user);
user
  .command('add')
  .description('Create an account; prints a generated password once unless --password is given')
  .requiredOption('--email <email>', 'the email address they sign in with')
  .requiredOption('--role <role...>', 'crew, safeguarding, recipient, admin or auditor (repeat for more)')
  .option('--team <team...>', 'for recipients: the team id(s) they work in (repeat for more)')
  .option('--name <name>', 'their full name, shown on what they do')
  .option('--password <password>', 'set this password (at least 12 characters) instead of generating one')
  .action(
    command(
      async (options: {
        email: string;
        role: string[];
        team?: string[];
        name?: string;
        password?: string;
      }) => {
        const ctx = await openRuntime();
        try {
          const current = await ctx.directories.current();
          const teams = new Set(current?.directory.authorities.flatMap((a) => a.teams.map((t) => t.id)));
          const { user: created, password } = await createUser(
            ctx.db.kysely,
            ctx.clock,
            {
              email: options.email,
              name: options.name,
              roles: options.role.flatMap((r) => r.split(',')),
              teams: options.team?.flatMap((t) => t.split(',')),
              password: options.password,
            },
            'cli',
            (id) => teams.has(id),
          );
          console.log(
            options.password ? `Created ${created.email} (${created.roles.join(', ')}).` : password,
          );
        } finally {
          await ctx.db.close();
        }
      },
    ),
  );

registerIdentityCommands(user);

const audit = program.command('audit').description('The tamper-evident audit log');
audit
  .command('verify')
  .description('Check every link of the audit hash chain; exits non-zero at the first broken one')
  .option('--anchor <file-or-text>', 'also check the chain still holds this anchor (from relay audit anchor)')
  .action(
    command(async (options: { anchor?: string }) => {
      const ctx = await openRuntime();
      try {
        const key = ctx.config.auditKey;
        const anchor =
          options.anchor === undefined ? undefined : parseAnchor(readAnchorArgument(options.anchor), key);
        const result = await verifyAuditChain(ctx.db.kysely, { key, anchor });
        if (!result.ok) throw new Error(`audit chain broken at entry ${result.brokenAt}: ${result.problem}`);
        const unkeyed = result.unkeyed
          ? ` (entries 1 to ${result.unkeyed} predate AUDIT_KEY and are checked by hash alone)`
          : '';
        const anchored = anchor ? `; it holds the anchor of ${anchor.at} (entry ${anchor.seq})` : '';
        console.log(
          `Audit chain intact: ${result.entries} entries, head ${result.headHash}${unkeyed}${anchored}.`,
        );
      } finally {
        await ctx.db.close();
      }
    }),
  );
audit
  .command('anchor')
  .description(
    'Print a signed copy of the audit head to keep outside Relay (relay audit verify --anchor checks it)',
  )
  .option('--out <file>', 'write the anchor to this file instead of printing it')
  .action(
    command(async (options: { out?: string }) => {
      const ctx = await openRuntime();
      try {
        const anchor = formatAnchor(await anchorHead(ctx.db.kysely, ctx.config.auditKey, ctx.clock.now()));
        if (options.out) {
          writeFileSync(options.out, `${anchor}\n`, { flag: 'wx' });
          console.log(`Wrote the audit anchor to ${options.out}.`);
        } else console.log(anchor);
      } finally {
        await ctx.db.close();
      }
    }),
  );

/** An anchor is pasted as text or given as the file it was written to. */
function readAnchorArgument(value: string): string {
  return value.startsWith('audit-anchor/') ? value : readFileSync(value, 'utf8');
}

program
  .command('reconcile')
  .description(
    "Compare a source system's CSV export (source_reference, created_at) with Relay; each referral Relay never received opens an escalation",
  )
  .argument('<file>', 'the CSV export')
  .option(
    '--system <system>',
    'the source system of rows the file does not name one for; a run that would then open escalations only previews them, unless --apply',
  )
  .option('--apply', 'open the escalations a run with --system previewed')
  .option('--dry-run', 'only report: open no escalation and store no run, whatever the file')
  .addOption(new Option('--format <format>', 'output').choices(REPORT_FORMATS).default('text'))
  .action(command(async (file: string, options: ReconcileCommandOptions) => reconcileCommand(file, options)));

registerPersonalDataCommands(program);

registerReviewCommands(program);

registerOncallCommands(program);

registerCheckCommand(program);

export { InvalidArgumentError };
await program.parseAsync(process.argv);
