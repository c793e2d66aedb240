import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist */

/** Incident reviews: a frozen cohort of cases, each with a reviewer, a status and append-only notes. */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('period_from', 'text', (c) => c.notNull())
    .addColumn('period_to', 'text', (c) => c.notNull())
    .addColumn('conditions', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('case_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reviews_created').on('reviews').column('created_at').execute();

  await db.schema
    .createTable('review_cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('review_id', 'text', (c) => c.notNull().references('reviews.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    // A case is a referral, or (missing in a reconciliation) an escalation with no referral row.
    .addColumn('referral_id', 'text', (c) => c.references('referrals.id'))
    .addColumn('escalation_id', 'text', (c) => c.references('escalations.id'))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('source_system', 'text')
    .addColumn('source_reference', 'text')
    .addColumn('received_at', 'text')
    .addColumn('urgency', 'text')
    .addColumn('conditions', 'text', (c) => c.notNull())
    .addColumn('reviewer_id', 'text', (c) => c.references('users.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('review_cases_position', ['review_id', 'position'])
    .execute();
  await db.schema
    .createIndex('review_cases_status')
    .on('review_cases')
    .columns(['review_id', 'status'])
    .execute();

  await db.schema
    .createTable('review_notes')
    .addColumn('id', 'integer', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity(),
    )
    .addColumn('case_id', 'text', (c) => c.notNull().references('review_cases.id'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('review_notes_case').on('review_notes').columns(['case_id', 'id']).execute();

  // The auditor's page filters the log by entity and by date, and a case's history is read by entity.
  await db.schema
    .createIndex('audit_log_entity')
    .on('audit_log')
    .columns(['entity_type', 'entity_id', 'seq'])
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
}
