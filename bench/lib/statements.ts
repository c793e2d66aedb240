import SQLite from 'better-sqlite3';
import pg from 'pg';

/**
 * Counts the statements this process sends to its database: on PostgreSQL each `query` of a
 * client is one round trip (Kysely sends them one at a time, BEGIN and COMMIT included); on SQLite
 * each statement run. Wraps the drivers' prototypes once, so whatever version of Relay runs in
 * this process is counted the same way.
 */
let counted = 0;
let installed = false;

function wrap<T extends object>(proto: T, method: keyof T): void {
  const original = proto[method] as unknown as (...args: unknown[]) => unknown;
  (proto as Record<keyof T, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    counted += 1;
    return original.apply(this, args);
  };
}

export function countStatements(): () => number {
  if (!installed) {
    installed = true;
    wrap(pg.Client.prototype, 'query');
    const probe = new SQLite(':memory:');
    const statement = Object.getPrototypeOf(probe.prepare('select 1')) as object;
    probe.close();
    for (const method of ['run', 'get', 'all', 'iterate'] as const) wrap(statement as never, method as never);
  }
  const start = counted;
  return () => counted - start;
}
