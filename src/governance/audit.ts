import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.ts';
import { isPostgres } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { AuditLogTable } from './audit.table.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  /** `system`, `user:<id>`, `apikey:<id>`, `cli`: never a person's name or anything personal. */
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  /** Ids, states and reasons only: the audit log outlives personal-data retention. */
  detail?: Record<string, unknown>;
  /** When it happened, where that is not the `at` of the block it is appended with. */
  at?: Date;
}

type Row = Omit<AuditLogTable, 'hash'>;

export function hashEntry(row: Row): string {
  const content = JSON.stringify([
    row.seq,
    row.at,
    row.actor,
    row.action,
    row.entity_type,
    row.entity_id,
    row.detail,
    row.prev_hash,
  ]);
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Appends one entry inside the caller's transaction. Bumping the head row first takes its row lock,
 * so concurrent appenders on PostgreSQL queue behind each other instead of forking the chain.
 */
export async function appendAudit(trx: Kysely<Database>, at: Date, entry: AuditEntry): Promise<number> {
  const [seq] = await appendAuditEntries(trx, at, [entry]);
  return seq as number;
}

/**
 * Appends several entries, in order, with one bump of the head and one INSERT: three statements
 * whatever the count (two on PostgreSQL), which keeps batched work (the dispatcher's claims and outcomes) off the
 * audit head's lock for as short a time as one entry would hold it.
 */
export async function appendAuditEntries(
  trx: Kysely<Database>,
  at: Date,
  entries: AuditEntry[],
): Promise<number[]> {
  if (entries.length === 0) return [];
  const head = await trx
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb('seq', '+', entries.length) }))
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  let prevHash = head.hash;
  const rows = entries.map((entry, i) => {
    const row: Row = {
      seq: head.seq - entries.length + 1 + i,
      at: (entry.at ?? at).toISOString(),
      actor: entry.actor,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      detail: canonicalJson(entry.detail ?? {}),
      prev_hash: prevHash,
    };
    prevHash = hashEntry(row);
    return { ...row, hash: prevHash };
  });
  if (isPostgres(trx)) {
    // One round trip for both writes, under the head's row lock taken above.
    await trx
      .with('appended', (db) => db.insertInto('audit_log').values(rows).returning('seq'))
      .updateTable('audit_head')
      .set({ hash: prevHash })
      .where('id', '=', 1)
      .execute();
  } else {
    await trx.insertInto('audit_log').values(rows).execute();
    await trx.updateTable('audit_head').set({ hash: prevHash }).where('id', '=', 1).execute();
  }
  return rows.map((r) => r.seq);
}

export type VerifyResult =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; brokenAt: number; problem: string };

/** Walks the whole chain in order and reports the first broken link. */
export async function verifyAuditChain(db: Kysely<Database>, batchSize = 1000): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of rows) {
      const problem = checkLink(row, expectedSeq, prevHash);
      if (problem) return { ok: false, entries: expectedSeq - 1, brokenAt: expectedSeq, problem };
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < batchSize) break;
  }
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
  const entries = expectedSeq - 1;
  if (!head || head.seq !== entries || head.hash !== prevHash) {
    return {
      ok: false,
      entries,
      brokenAt: entries + 1,
      problem: `the chain ends at entry ${entries} but the recorded head is entry ${head?.seq ?? 'missing'}: entries were deleted from the end or the head was altered`,
    };
  }
  return { ok: true, entries, headHash: prevHash };
}

function checkLink(row: AuditLogTable, expectedSeq: number, prevHash: string): string | undefined {
  if (row.seq !== expectedSeq) return `entry ${expectedSeq} is missing (next entry found is ${row.seq})`;
  if (row.prev_hash !== prevHash) return `entry ${row.seq} does not link to the entry before it`;
  if (hashEntry(row) !== row.hash) return `entry ${row.seq} was changed after it was written`;
  return undefined;
}
