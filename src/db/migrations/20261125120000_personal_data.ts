import type { Kysely } from 'kysely';

/**
 * Retention and legal hold on referrals, and a column of its own for a team's free-text dispute
 * note: escalation `detail` is copied into the audit log and promised to hold no personal data.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema
    .alterTable('referrals')
    .addColumn('legal_hold', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  for (const column of ['legal_hold_reason', 'legal_hold_by', 'legal_hold_at', 'purged_at']) {
    await db.schema.alterTable('referrals').addColumn(column, 'text').execute();
  }
  // The purge looks for referrals not yet purged and closed before a cut-off.
  await db.schema
    .createIndex('referrals_retention')
    .on('referrals')
    .columns(['purged_at', 'closed_at'])
    .execute();
  await db.schema.alterTable('escalations').addColumn('team_note', 'text').execute();
  await moveDisputeNotes(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function moveDisputeNotes(db: Kysely<any>): Promise<void> {
  const rows = (await db
    .selectFrom('escalations')
    .select(['id', 'detail'])
    .where('reason', '=', 'manifest-disputed')
    .execute()) as { id: string; detail: string }[];
  for (const row of rows) {
    const { note, ...rest } = JSON.parse(row.detail) as Record<string, unknown>;
    if (typeof note !== 'string') continue;
    // Left as plain text here; `relay keys rotate` encrypts it with the other legacy values.
    await db
      .updateTable('escalations')
      .set({ team_note: note, detail: JSON.stringify(rest) })
      .where('id', '=', row.id)
      .execute();
  }
}
