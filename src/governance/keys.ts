import { sql, type Kysely } from 'kysely';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { appendAudit } from '../records/audit.ts';
import { reindexSearchTerms } from './search-reindex.ts';
import { keyIdOf, newestKey, openField } from '../records/field-crypto.ts';
import {
  ALL_PERSONAL_FIELDS,
  fieldAad,
  fieldName,
  sealField,
  type PersonalField,
} from '../records/personal-data.ts';

/**
 * Key rotation: every personal-data value not yet under the newest key (an older key, or plain text
 * written before encryption) is re-encrypted, a batch per transaction, and then the search index
 * rebuilt under the newest key (search-reindex.ts). Nothing records progress:
 * each run simply looks for what is still not under the newest key, so a run stopped half way is
 * finished by running it again.
 */

export interface FieldKeyCounts {
  field: string;
  /** Values under each configured key id. */
  byKey: Record<string, number>;
  /** Written before encryption, not yet rotated. */
  plain: number;
  /** Encrypted under a key id missing from RELAY_DATA_KEYS: unreadable until it is added back. */
  unknownKey: number;
}

const ENCRYPTED_PREFIX = 'enc1:';

// Exact, case-sensitive prefix tests on both engines (SQLite's LIKE ignores case).
function startsWith(field: PersonalField, prefix: string) {
  return sql<boolean>`substr(${sql.ref(field.column)}, 1, ${sql.lit(prefix.length)}) = ${prefix}`;
}

export async function keyStatus(db: Kysely<Database>, keys: readonly DataKey[]): Promise<FieldKeyCounts[]> {
  const counts: FieldKeyCounts[] = [];
  for (const field of ALL_PERSONAL_FIELDS) {
    const perKey = keys.map(
      (k, i) =>
        sql`sum(case when ${startsWith(field, `${ENCRYPTED_PREFIX}${k.id}:`)} then 1 else 0 end) as ${sql.ref(`k${i}`)}`,
    );
    const { rows } = await sql<Record<string, number | null>>`
      select count(*) as total,
        sum(case when ${startsWith(field, ENCRYPTED_PREFIX)} then 1 else 0 end) as encrypted,
        ${sql.join(perKey)}
      from ${sql.table(field.table)} where ${sql.ref(field.column)} is not null`.execute(db);
    const row = rows[0] ?? {};
    const n = (name: string) => Number(row[name] ?? 0);
    const byKey = Object.fromEntries(keys.map((k, i) => [k.id, n(`k${i}`)]));
    const known = Object.values(byKey).reduce((a, b) => a + b, 0);
    counts.push({
      field: fieldName(field),
      byKey,
      plain: n('total') - n('encrypted'),
      unknownKey: n('encrypted') - known,
    });
  }
  return counts;
}

export interface RotationBatch {
  field: string;
  /** Values re-encrypted in this batch, by the key id (or `plain`) they were under. */
  from: Record<string, number>;
  reencrypted: number;
}

export interface RotateOptions {
  batchSize: number;
  actor: string;
  /** Called after each committed batch (progress output; tests stop a run here to simulate a crash). */
  onBatch?: (batch: RotationBatch) => void | Promise<void>;
  /** Called after each batch of referrals whose search index was rebuilt under the newest key. */
  onReindexed?: (referrals: number) => void | Promise<void>;
}

/** Re-encrypts everything not under the newest key; returns how many values it re-encrypted. */
export async function rotateKeys(ctx: RelayContext, options: RotateOptions): Promise<number> {
  const keys = ctx.config.dataKeys;
  const prefix = `${ENCRYPTED_PREFIX}${newestKey(keys).id}:`;
  let total = 0;
  for (const field of ALL_PERSONAL_FIELDS) {
    // Keyset paging by id: a value that cannot be swapped (changed meanwhile) is not fetched again.
    // Ids are text or (review notes) integers, so the first page has no lower bound at all.
    let after: string | number | undefined;
    for (;;) {
      const { rows } = await sql<{ id: string | number; value: string }>`
        select id, ${sql.ref(field.column)} as value from ${sql.table(field.table)}
        where ${sql.ref(field.column)} is not null and not (${startsWith(field, prefix)})
        ${after === undefined ? sql`` : sql`and id > ${after}`}
        order by id limit ${sql.lit(options.batchSize)}`.execute(ctx.db.kysely);
      const last = rows.at(-1);
      if (!last) break;
      after = last.id;
      const batch = await ctx.db.kysely
        .transaction()
        .execute((trx) => rotateBatch(trx, keys, field, rows, ctx.clock.now(), options.actor));
      total += batch.reencrypted;
      await options.onBatch?.(batch);
      if (rows.length < options.batchSize) break;
    }
  }
  // The search index's digests are keyed by a key derived from the data key: rebuilt under the
  // newest, so the old key can be removed without losing the search.
  await reindexSearchTerms(ctx, {
    batchSize: options.batchSize,
    actor: options.actor,
    onBatch: options.onReindexed,
  });
  return total;
}

async function rotateBatch(
  trx: Kysely<Database>,
  keys: readonly DataKey[],
  field: PersonalField,
  rows: { id: string | number; value: string }[],
  now: Date,
  actor: string,
): Promise<RotationBatch> {
  const from: Record<string, number> = {};
  for (const row of rows) {
    // Throws, naming the key id, when a value is under a key that is not configured.
    const plaintext = openField(keys, row.value, fieldAad(field, String(row.id)));
    const sealed = sealField(keys, field, String(row.id), plaintext);
    // Only if unchanged since it was read: a concurrent write is already under the newest key.
    const { numAffectedRows } = await sql`
      update ${sql.table(field.table)} set ${sql.ref(field.column)} = ${sealed}
      where id = ${row.id} and ${sql.ref(field.column)} = ${row.value}`.execute(trx);
    if (numAffectedRows === 0n) continue;
    const was = keyIdOf(row.value) ?? 'plain';
    from[was] = (from[was] ?? 0) + 1;
  }
  const reencrypted = Object.values(from).reduce((a, b) => a + b, 0);
  const name = fieldName(field);
  if (reencrypted > 0) {
    await appendAudit(trx, now, {
      actor,
      action: 'data-keys.rotated',
      entityType: 'data-key',
      entityId: newestKey(keys).id,
      detail: { field: name, reencrypted, from },
    });
  }
  return { field: name, from, reencrypted };
}
