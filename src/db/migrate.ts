import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { loadConfig, type DataKey } from '../config.ts';
import type { Db, Dialect } from './database.ts';
import * as initial from './migrations/20261125080000_initial.ts';
import * as mailcatcher from './migrations/20261125090000_mailcatcher.ts';
import * as assurance from './migrations/20261125100000_assurance.ts';
import * as users from './migrations/20261125110000_users.ts';
import * as personalData from './migrations/20261125120000_personal_data.ts';
import * as reconciliation from './migrations/20261125121000_reconciliation.ts';
import * as reviews from './migrations/20261125122000_reviews.ts';
import * as dashboardIndexes from './migrations/20261125130000_dashboard_indexes.ts';
import * as metricsIndexes from './migrations/20261125140000_metrics_indexes.ts';
import * as claimIndex from './migrations/20261125153000_claim_index.ts';
import * as sweepStatus from './migrations/20261206100000_sweep_status.ts';
import * as sweepLease from './migrations/20261206101000_sweep_lease.ts';
import * as oncall from './migrations/20261206110000_oncall.ts';
import * as escalationPushes from './migrations/20261206120000_escalation_pushes.ts';
import * as signInThrottles from './migrations/20261206130500_sign_in_throttles.ts';
import * as apiKeySystems from './migrations/20261206131000_api_key_systems.ts';
import * as auditKeying from './migrations/20261206120000_audit_keying.ts';
import * as reviewNotesSealed from './migrations/20261206121000_review_notes_sealed.ts';
import * as codeChecks from './migrations/20261206140000_code_checks.ts';
import * as referralDrafts from './migrations/20261206160000_referral_drafts.ts';
import * as triageOutcomes from './migrations/20261206170000_triage_outcomes.ts';
import * as identityLinks from './migrations/20261206180000_identity_links.ts';
import * as searchIndex from './migrations/20261207100000_search_index.ts';
import * as secondFactor from './migrations/20261207115000_second_factor.ts';
import * as webhookFormat from './migrations/20261207125000_webhook_format.ts';
import * as meshChannel from './migrations/20261208100000_mesh_channel.ts';
import * as inboxIndexes from './migrations/20261209100000_inbox_indexes.ts';
import * as searchNewest from './migrations/20261210090000_search_newest.ts';

/**
 * Keys a migration may need (to seal or encrypt what it writes). They are never in the database, so
 * the process running the migrations supplies them from its configuration.
 */
export interface MigrationSecrets {
  auditKey: Buffer;
  dataKeys: readonly DataKey[];
}

type DialectMigration = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists
  up(db: Kysely<any>, dialect: Dialect, secrets: MigrationSecrets): Promise<void>;
};

/** Timestamped migrations, in order. Each runs in its own transaction on both engines. */
const migrations: Record<string, DialectMigration> = {
  '20261125080000_initial': initial,
  '20261125090000_mailcatcher': mailcatcher,
  '20261125100000_assurance': assurance,
  '20261125110000_users': users,
  '20261125120000_personal_data': personalData,
  '20261125121000_reconciliation': reconciliation,
  '20261125122000_reviews': reviews,
  '20261125130000_dashboard_indexes': dashboardIndexes,
  '20261125140000_metrics_indexes': metricsIndexes,
  '20261125153000_claim_index': claimIndex,
  '20261206100000_sweep_status': sweepStatus,
  '20261206101000_sweep_lease': sweepLease,
  '20261206110000_oncall': oncall,
  '20261206120000_escalation_pushes': escalationPushes,
  '20261206130500_sign_in_throttles': signInThrottles,
  '20261206131000_api_key_systems': apiKeySystems,
  '20261206120000_audit_keying': auditKeying,
  '20261206121000_review_notes_sealed': reviewNotesSealed,
  '20261206140000_code_checks': codeChecks,
  '20261206160000_referral_drafts': referralDrafts,
  '20261206170000_triage_outcomes': triageOutcomes,
  '20261206180000_identity_links': identityLinks,
  '20261207100000_search_index': searchIndex,
  '20261207115000_second_factor': secondFactor,
  '20261207125000_webhook_format': webhookFormat,
  '20261208100000_mesh_channel': meshChannel,
  '20261209100000_inbox_indexes': inboxIndexes,
  '20261210090000_search_newest': searchNewest,
};

class StaticProvider implements MigrationProvider {
  constructor(
    private readonly dialect: Dialect,
    private readonly secrets: MigrationSecrets,
  ) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      Object.entries(migrations).map(([name, m]) => [
        name,
        { up: (db) => m.up(db, this.dialect, this.secrets) },
      ]),
    );
  }
}

/**
 * Undefined table, column and schema: what another schema's concurrent DDL (dropped, or migrating a
 * column away) looks like mid-listing.
 */
const VANISHED = new Set(['42P01', '42703', '3F000']);

/** The development stand-ins (what an empty environment configures), for tests and local tools. */
function developmentSecrets(): MigrationSecrets {
  const { auditKey, dataKeys } = loadConfig({});
  return { auditKey, dataKeys };
}

export async function migrateToLatest(
  db: Db,
  secrets: MigrationSecrets = developmentSecrets(),
): Promise<string[]> {
  return migrate(db, secrets);
}

/** Up to and including `target` (tests build a database as an older version left it). */
export async function migrateTo(db: Db, target: string, secrets = developmentSecrets()): Promise<string[]> {
  return migrate(db, secrets, target);
}

async function migrate(db: Db, secrets: MigrationSecrets, target?: string): Promise<string[]> {
  // Unless told the schema, Kysely takes a migration table in any schema as ours, and then fails to
  // find it (another app's schema, or a parallel test's): so name the schema we are working in.
  const migrationTableSchema = db.dialect === 'postgres' ? await currentSchema(db) : undefined;
  const migrator = new Migrator({
    db: db.kysely,
    provider: new StaticProvider(db.dialect, secrets),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  for (let attempt = 1; ; attempt += 1) {
    const { error, results } = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest());
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely's introspector lists the tables of every schema; one dropped meanwhile (a parallel test's,
    // another app's) fails that listing (42P01, 42703 or 3F000). Nothing was applied, so trying again is safe.
    if (!VANISHED.has((error as { code?: string }).code ?? '') || attempt >= 5) {
      throw error instanceof Error ? error : new Error('Migration failed', { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

async function currentSchema(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db.kysely);
  return rows[0]?.schema ?? undefined;
}
