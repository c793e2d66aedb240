import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist */
type Db = Kysely<any>;

function withAutoId(table: CreateTableBuilder<string, any>, dialect: Dialect, name = 'id') {
  return table.addColumn(name, 'integer', (c) =>
    dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity(),
  );
}

async function directory(db: Db, dialect: Dialect): Promise<void> {
  await withAutoId(db.schema.createTable('directory_versions'), dialect)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('checksum', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('authorities')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('authorities_pk', ['version_id', 'id'])
    .execute();
  await db.schema
    .createTable('teams')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('authority_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email_detail', 'text', (c) => c.notNull())
    .addColumn('hours', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('teams_pk', ['version_id', 'id'])
    .execute();
  await db.schema
    .createTable('team_channels')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('verify_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_channels_pk', ['version_id', 'team_id', 'position'])
    .execute();
  await db.schema
    .createTable('team_phones')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_phones_pk', ['version_id', 'team_id', 'position'])
    .execute();
  await db.schema
    .createTable('bank_holidays')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('date', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bank_holidays_pk', ['version_id', 'date'])
    .execute();
  await db.schema
    .createTable('coverage')
    .addColumn('version_id', 'integer', (c) => c.notNull().references('directory_versions.id'))
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('authority_id', 'text')
    .addColumn('split', 'text')
    .addPrimaryKeyConstraint('coverage_pk', ['version_id', 'prefix'])
    .execute();
}

async function referrals(db: Db, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('reference_counters')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('last', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('referrals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('source_system', 'text', (c) => c.notNull())
    .addColumn('source_reference', 'text', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('referral_type', 'text', (c) => c.notNull())
    .addColumn('urgency', 'text', (c) => c.notNull())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('directory_version', 'integer', (c) => c.references('directory_versions.id'))
    .addColumn('raised_by_key', 'text')
    .addColumn('closed_at', 'text')
    .addUniqueConstraint('referrals_source_unique', ['source_system', 'source_reference'])
    .execute();
  await db.schema.createIndex('referrals_updated').on('referrals').columns(['updated_at', 'id']).execute();
  await db.schema.createIndex('referrals_status').on('referrals').columns(['status', 'updated_at']).execute();
  await db.schema.createIndex('referrals_received').on('referrals').column('received_at').execute();

  await db.schema
    .createTable('routes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('referral_id', 'text', (c) => c.notNull().references('referrals.id'))
    .addColumn('authority_id', 'text', (c) => c.notNull())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('team_kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('ack_by', 'text', (c) => c.notNull())
    .addColumn('reminder_at', 'text', (c) => c.notNull())
    .addColumn('reminded_at', 'text')
    .addColumn('acknowledged_at', 'text')
    .addColumn('outcome', 'text')
    .addColumn('outcome_note', 'text')
    .addColumn('outcome_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('routes_referral_team', ['referral_id', 'team_id'])
    .execute();
  await db.schema
    .createIndex('routes_unacknowledged')
    .on('routes')
    .columns(['acknowledged_at', 'ack_by'])
    .execute();

  await db.schema
    .createTable('triage_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('referral_id', 'text', (c) => c.notNull().references('referrals.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('authority_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('triage_by', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolution', 'text')
    .execute();
  await db.schema
    .createIndex('triage_open')
    .on('triage_items')
    .columns(['resolved_at', 'triage_by'])
    .execute();

  await withAutoId(db.schema.createTable('referral_events'), dialect)
    .addColumn('referral_id', 'text', (c) => c.notNull().references('referrals.id'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('referral_events_referral')
    .on('referral_events')
    .columns(['referral_id', 'id'])
    .execute();
}

async function delivery(db: Db, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Null only for a test alert, which proves an address without any referral.
    .addColumn('referral_id', 'text', (c) => c.references('referrals.id'))
    .addColumn('route_id', 'text', (c) => c.references('routes.id'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('send_by', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('acknowledged_at', 'text')
    .addUniqueConstraint('deliveries_one_per_address', [
      'referral_id',
      'team_id',
      'channel',
      'address',
      'purpose',
    ])
    .execute();
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema.createIndex('deliveries_referral').on('deliveries').column('referral_id').execute();

  await withAutoId(db.schema.createTable('delivery_attempts'), dialect)
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id'))
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('delivery_attempts_delivery')
    .on('delivery_attempts')
    .column('delivery_id')
    .execute();
}

async function assurance(db: Db): Promise<void> {
  await db.schema
    .createTable('acknowledgements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('referral_id', 'text', (c) => c.notNull().references('referrals.id'))
    .addColumn('route_id', 'text', (c) => c.notNull().references('routes.id'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('by_name', 'text', (c) => c.notNull())
    .addColumn('by_user', 'text')
    .addColumn('by_key', 'text')
    .execute();
  await db.schema
    .createIndex('acknowledgements_referral')
    .on('acknowledgements')
    .column('referral_id')
    .execute();
  await db.schema
    .createTable('escalations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('referral_id', 'text', (c) => c.references('referrals.id'))
    .addColumn('team_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema
    .createIndex('escalations_state')
    .on('escalations')
    .columns(['state', 'opened_at'])
    .execute();
  await db.schema.createIndex('escalations_referral').on('escalations').column('referral_id').execute();
}

async function governance(db: Db, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull().unique())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('audit_head')
    .values({ id: 1, seq: 0, hash: '0'.repeat(64) })
    .execute();
  // The database itself refuses edits and deletions; the hash chain catches anyone who bypasses this.
  if (dialect === 'sqlite') {
    for (const op of ['UPDATE', 'DELETE']) {
      await sql
        .raw(
          `CREATE TRIGGER audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log ` +
            `BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
        )
        .execute(db);
    }
  } else {
    await sql
      .raw(
        `CREATE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$ ` +
          `BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log ` +
          `FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log ` +
          `FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`,
      )
      .execute(db);
  }
}

async function access(db: Db): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('team_id', 'text')
    .addColumn('source_system', 'text')
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .execute();
}

export async function up(db: Db, dialect: Dialect): Promise<void> {
  await directory(db, dialect);
  await referrals(db, dialect);
  await delivery(db, dialect);
  await assurance(db);
  await governance(db, dialect);
  await access(db);
}
