import { InvalidArgumentError, type Command } from 'commander';
import { command, withRuntime } from './command.ts';
import type { RelayContext } from '../context.ts';

/** `relay keys …` and `relay legal-hold …`: the operator's side of the personal-data rules (docs/operations.md, Personal data). */
export function registerPersonalDataCommands(program: Command): void {
  registerKeyCommands(program);
  registerLegalHoldCommands(program);
  registerIndexCommands(program);
}

function parseBatch(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('must be 1 to 100000');
  return n;
}

function registerKeyCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('The keys that encrypt personal data at rest (RELAY_DATA_KEYS: the last encrypts)');
  keys
    .command('status')
    .description('Count the personal-data values under each key id, and any still in plain text')
    .action(command(() => withRuntime(printStatus)));
  keys
    .command('rotate')
    .description(
      'Re-encrypt every personal-data value not under the newest key (older keys, plain text), a batch ' +
        'per transaction; safe to stop and run again. Remove an old key only after this',
    )
    .option('--batch <n>', 'values re-encrypted per transaction', parseBatch, 500)
    .action(
      command((options: { batch: number }) =>
        withRuntime(async (ctx) => {
          const { newestKey } = await import('../records/field-crypto.ts');
          const { rotateKeys } = await import('../governance/keys.ts');
          const newest = newestKey(ctx.config.dataKeys).id;
          console.log(`Re-encrypting under key ${newest}…`);
          let done = 0;
          const total = await rotateKeys(ctx, {
            batchSize: options.batch,
            actor: 'cli',
            onBatch: (b) => {
              done += b.reencrypted;
              console.log(`  ${b.field}: ${b.reencrypted} re-encrypted (${done} so far)`);
            },
            onReindexed: (n) => console.log(`  search index: ${referrals(n)} rebuilt under key ${newest}`),
          });
          const values = `${total} value${total === 1 ? '' : 's'}`;
          console.log(`Done: ${values} re-encrypted; every personal-data value is under key ${newest}.`);
        }),
      ),
    );
}

async function printStatus(ctx: RelayContext): Promise<void> {
  const { keyStatus } = await import('../governance/keys.ts');
  const ids = ctx.config.dataKeys.map((k) => k.id);
  console.log(`Newest key (encrypts): ${ids.at(-1) ?? '-'}`);
  console.log(['field', ...ids, 'plain', 'unknown-key'].join('\t'));
  for (const f of await keyStatus(ctx.db.kysely, ctx.config.dataKeys)) {
    console.log([f.field, ...ids.map((id) => f.byKey[id] ?? 0), f.plain, f.unknownKey].join('\t'));
  }
}

function registerLegalHoldCommands(program: Command): void {
  const hold = program
    .command('legal-hold')
    .description("Keep a referral's personal data past the retention period, or release it again");
  hold
    .command('set')
    .description('Put a referral on legal hold (audited)')
    .argument('<reference>', 'the referral reference (SR-YYYY-NNNNNN) or id')
    .requiredOption(
      '--reason <reason>',
      'why: kept in the audit log for ever, so a case number, not personal data',
    )
    .action(
      command((reference: string, options: { reason: string }) =>
        withRuntime(async (ctx) => {
          const { setLegalHold } = await import('../governance/legal-hold.ts');
          const referral = await setLegalHold(ctx, reference, options.reason, 'cli');
          console.log(`${referral.reference} is on legal hold.`);
        }),
      ),
    );
  hold
    .command('clear')
    .description('Release a referral from legal hold (audited); retention then applies as usual')
    .argument('<reference>', 'the referral reference (SR-YYYY-NNNNNN) or id')
    .action(
      command((reference: string) =>
        withRuntime(async (ctx) => {
          const { clearLegalHold } = await import('../governance/legal-hold.ts');
          const referral = await clearLegalHold(ctx, reference, 'cli');
          console.log(`${referral.reference} is no longer on legal hold.`);
        }),
      ),
    );
}

const referrals = (n: number) => `${n} referral${n === 1 ? '' : 's'}`;

function registerIndexCommands(program: Command): void {
  const data = program
    .command('personal-data')
    .description(
      "The safeguarding search's keyed index of personal data (names, dates of birth, NHS numbers…)",
    );
  data
    .command('reindex')
    .description(
      'Index every referral not yet in the search index, or indexed under an older data key, a batch ' +
        'per transaction; safe to stop and run again. Run once after upgrading to the search index',
    )
    .option('--batch <n>', 'referrals indexed per transaction', parseBatch, 500)
    .action(
      command((options: { batch: number }) =>
        withRuntime(async (ctx) => {
          const { reindexSearchTerms } = await import('../governance/search-reindex.ts');
          const total = await reindexSearchTerms(ctx, { batchSize: options.batch, actor: 'cli' });
          console.log(`Done: ${referrals(total)} indexed; every referral is searchable.`);
        }),
      ),
    );
}
