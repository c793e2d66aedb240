import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AuditLogTable } from '../../db/tables/audit.table.ts';

export const PAGE_SIZE = 50;

export interface AuditFilter {
  /** Matches the action and everything under it: `review` finds `review.created` and `review.exported`. */
  action?: string;
  actor?: string;
  entityType?: string;
  entityId?: string;
  /** ISO instants, [from, to). */
  from?: string;
  to?: string;
}

/** Keyset paging over seq, newest first: `before` shows older entries, `after` newer ones. */
export interface AuditPageRequest {
  before?: number;
  after?: number;
}

/** An entry as the page shows it: everything but the chain's hashes. */
export type AuditRow = Omit<AuditLogTable, 'prev_hash' | 'hash'>;

function filtered(db: Kysely<Database>, filter: AuditFilter) {
  let query = db
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'entity_type', 'entity_id', 'detail']);
  if (filter.action) {
    // `review` means review itself and review.*, never `reviewer.…`. substr rather than LIKE: it
    // has no wildcards to escape and is case-sensitive on both engines.
    const prefix = filter.action.endsWith('.') ? filter.action : `${filter.action}.`;
    const head = sql<string>`substr(action, 1, ${sql.lit(prefix.length)})`;
    query = query.where((eb) => eb.or([eb('action', '=', filter.action ?? ''), eb(head, '=', prefix)]));
  }
  if (filter.actor) query = query.where('actor', '=', filter.actor);
  if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
  if (filter.entityId) query = query.where('entity_id', '=', filter.entityId);
  if (filter.from) query = query.where('at', '>=', filter.from);
  if (filter.to) query = query.where('at', '<', filter.to);
  return query;
}

/**
 * One page of entries, newest first, and whether there are older and newer ones beyond it. Paging
 * by seq rather than offset keeps a page stable while new entries are appended at the head.
 */
export async function auditPage(db: Kysely<Database>, filter: AuditFilter, page: AuditPageRequest) {
  let query = filtered(db, filter);
  if (page.after !== undefined) {
    query = query.where('seq', '>', page.after).orderBy('seq', 'asc');
  } else {
    if (page.before !== undefined) query = query.where('seq', '<', page.before);
    query = query.orderBy('seq', 'desc');
  }
  const found = await query.limit(PAGE_SIZE + 1).execute();
  const more = found.length > PAGE_SIZE;
  const rows = found.slice(0, PAGE_SIZE);
  if (page.after !== undefined) rows.reverse();
  const newest = rows[0]?.seq;
  const oldest = rows.at(-1)?.seq;
  const exists = async (edge: 'newer' | 'older', seq: number | undefined) =>
    seq !== undefined &&
    (await filtered(db, filter)
      .where('seq', edge === 'newer' ? '>' : '<', seq)
      .limit(1)
      .executeTakeFirst()) !== undefined;
  return {
    rows,
    older: page.after === undefined ? more : await exists('older', oldest),
    newer: page.after !== undefined ? more : await exists('newer', newest),
    newest,
    oldest,
  };
}

const EXPORT_BATCH = 1000;

/**
 * Every entry the filter matches, oldest first, read in batches by seq so an export of years of
 * entries never holds more than one batch in memory or one long-running statement.
 */
export async function* auditEntries(db: Kysely<Database>, filter: AuditFilter): AsyncGenerator<AuditRow> {
  let after = 0;
  for (;;) {
    const rows = await filtered(db, filter)
      .where('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(EXPORT_BATCH)
      .execute();
    yield* rows;
    if (rows.length < EXPORT_BATCH) return;
    after = rows.at(-1)!.seq;
  }
}
