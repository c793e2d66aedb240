import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import { isPostgres } from './database.ts';
import type { Database } from './schema.ts';

/** Statement texts by engine, table, columns and row count; the same few hundred recur. */
const texts = new Map<string, string>();
const MAX_TEXTS = 2000;

/**
 * One multi-row INSERT whose text is made once per table, columns and row count. Kysely builds a
 * tree of nodes for every value of a multi-row INSERT and compiles it to text again on every call;
 * for the rows written in batches with every referral and every send, that was more of the event
 * loop than SQLite spent running them. Rows must all have the same columns, with plain values
 * (strings, numbers, null, bytes): anything else (a missing or undefined value, an SQL expression)
 * goes to Kysely, which knows what to make of it.
 */
export async function insertRows<T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const columns = Object.keys(first);
  const params = plainValues(rows as readonly Record<string, unknown>[], columns);
  // A plugin sees each statement as Kysely builds it (the sweep's lease guard refuses every one once
  // the lease may have run out); text made here would pass it by, so such a database goes to Kysely.
  if (!params || db.getExecutor().plugins.length > 0) {
    await db
      .insertInto(table)
      .values(rows as never)
      .execute();
    return;
  }
  await db.executeQuery(CompiledQuery.raw(insertText(isPostgres(db), table, columns, rows.length), params));
}

/** The rows' values in column order, or undefined when a row is not plain (see `insertRows`). */
function plainValues(rows: readonly Record<string, unknown>[], columns: string[]): unknown[] | undefined {
  const params: unknown[] = [];
  for (const row of rows) {
    if (Object.keys(row).length !== columns.length) return undefined;
    for (const column of columns) {
      const value = row[column];
      if (value === undefined) return undefined;
      if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return undefined;
      params.push(value);
    }
  }
  return params;
}

function insertText(postgres: boolean, table: string, columns: string[], count: number): string {
  const key = `${postgres ? 'pg' : 'sqlite'} ${table} ${columns.join(',')} ${count}`;
  let text = texts.get(key);
  if (text === undefined) {
    let n = 0;
    const row = () => `(${columns.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`;
    const values = Array.from({ length: count }, row).join(', ');
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${values}`;
    if (texts.size >= MAX_TEXTS) texts.clear();
    texts.set(key, text);
  }
  return text;
}
