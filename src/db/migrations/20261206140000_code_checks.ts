import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * The database refuses a code it does not know: a delivery's channel, purpose and state, an
 * attempt's outcome, a test alert's channel and an escalation's reason. The lists are written out
 * as they are today (src/db/codes.ts has the living ones), so a later change there cannot change
 * what this migration does; a new code needs a migration that widens its constraint.
 *
 * PostgreSQL gets CHECK constraints. SQLite cannot add one to an existing table without rebuilding
 * it, so, as the audit log's append-only rule does, it gets triggers that refuse the same inserts
 * and updates. Rows already stored are checked first, so a database holding a code outside its
 * list stops here with the column named instead of half-migrated.
 */
const CODES: [table: string, column: string, codes: readonly string[]][] = [
  ['deliveries', 'channel', ['email', 'webhook']],
  ['deliveries', 'purpose', ['referral', 'reminder', 'alert-secondary', 'alert-out-of-hours', 'test-alert']],
  [
    'deliveries',
    'state',
    ['queued', 'sending', 'retrying', 'sent', 'acknowledged', 'failed', 'bounced', 'cancelled'],
  ],
  ['delivery_attempts', 'outcome', ['sent', 'temporary', 'permanent']],
  ['test_alerts', 'channel', ['email', 'webhook']],
  [
    'escalations',
    'reason',
    [
      'not-sent',
      'failed',
      'bounced',
      'not-acknowledged',
      'triage-overdue',
      'volume-drop',
      'destination-silent',
      'test-alert-unacknowledged',
      'manifest-disputed',
      'missing-referral',
      'rota-gap',
      'clock-skew',
      'directory-stale',
    ],
  ],
];

/** The SQL list of the codes; they are fixed literals above, never input. */
const list = (codes: readonly string[]) => codes.map((c) => `'${c}'`).join(', ');

export async function up(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
  db: Kysely<any>,
  dialect: Dialect,
): Promise<void> {
  for (const [table, column, codes] of CODES) {
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} not in (${sql.raw(list(codes))})
    `.execute(db);
    const bad = Number(rows[0]?.n ?? 0);
    if (bad > 0) throw new Error(`${table}.${column}: ${bad} rows hold a code outside (${codes.join(', ')})`);
    await (dialect === 'sqlite' ? refuseBySqliteTriggers : addCheck)(db, table, column, codes);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function addCheck(db: Kysely<any>, table: string, column: string, codes: readonly string[]) {
  await sql
    .raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_${column}_code CHECK (${column} IN (${list(codes)}))`)
    .execute(db);
}

async function refuseBySqliteTriggers(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  db: Kysely<any>,
  table: string,
  column: string,
  codes: readonly string[],
) {
  const when = `WHEN NEW.${column} NOT IN (${list(codes)})`;
  // The same words PostgreSQL uses, so one message names the refusal on both engines.
  const refuse = `BEGIN SELECT RAISE(ABORT, 'violates check constraint ${table}_${column}_code'); END`;
  for (const [op, on] of [
    ['insert', 'INSERT'],
    ['update', `UPDATE OF ${column}`],
  ] as const) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_${column}_code_${op} BEFORE ${on} ON ${table} FOR EACH ROW ${when} ${refuse}`,
      )
      .execute(db);
  }
}
