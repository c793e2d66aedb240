import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Kysely, Transaction } from 'kysely';
import pg from 'pg';
import { openDatabase, type Db, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';

export interface TestDatabase {
  db: Db;
  /** The URL a child `relay` process can use to reach the same database. */
  url: string;
  /** The PostgreSQL schema, for child processes (PGOPTIONS). */
  pgSchema?: string;
  drop(): Promise<void>;
}

/** What a child `relay` process needs to reach this database: its URL and, on PostgreSQL, its schema. */
export function childDatabaseEnv(database: TestDatabase): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    ...(database.pgSchema ? { PGOPTIONS: `-c search_path=${database.pgSchema}` } : {}),
  };
}

/** A fresh, migrated database: a new SQLite file, or a new PostgreSQL schema. */
export async function createTestDatabase(
  dialect: Dialect,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const created = dialect === 'sqlite' ? createSqlite() : await createPostgres();
  if (options.migrate !== false) await migrateToLatest(created.db);
  return created;
}

function createSqlite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  const url = `sqlite:${join(dir, 'relay.db')}`;
  const db = openDatabase(url);
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgres(): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL as string;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = openDatabase(url, { pgSchema: schema });
  return {
    db,
    url,
    pgSchema: schema,
    drop: async () => {
      await db.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}

/** Every engine Relay runs on, in the order their suites run. */
const ENGINES: readonly Dialect[] = ['sqlite', 'postgres'];

/** Why suites on `dialect` cannot run in this process, or undefined when they can. */
function unavailable(dialect: Dialect): string | undefined {
  if (dialect === 'postgres' && !process.env.TEST_DATABASE_URL) {
    return 'PostgreSQL is not configured here: set TEST_DATABASE_URL to run it (CI does)';
  }
  return undefined;
}

/**
 * The one way to run a suite on both engines: `name [sqlite]`, then `name [postgres]`. Where
 * PostgreSQL is not configured its suite is reported as skipped, with the reason, so it never just
 * disappears from the results. `only` narrows the engines for a suite that means one of them.
 */
export function describeEachDialect(
  name: string,
  suite: (dialect: Dialect) => void,
  options: { only?: readonly Dialect[] } = {},
): void {
  for (const dialect of options.only ?? ENGINES) {
    const title = `${name} [${dialect}]`;
    const skip = unavailable(dialect);
    // A skipped test, not a skipped suite: node:test counts only tests in its "skipped" total.
    if (skip) it(title, { skip }, () => undefined);
    else describe(title, () => suite(dialect));
  }
}

/** A fresh, migrated database for the enclosing suite: made before its tests, dropped after them. */
export function useTestDatabase(dialect: Dialect): () => TestDatabase {
  let database: TestDatabase | undefined;
  before(async () => {
    database = await createTestDatabase(dialect);
  });
  after(async () => {
    await database?.drop();
  });
  return () => {
    if (!database) throw new Error('The test database is made in a before hook; use it inside tests.');
    return database;
  };
}

/**
 * `db` with its transactions counted as they commit, so a test can tell one commit from five.
 * Only `transaction().execute()` is counted; every other call goes straight to `db`.
 */
export function countingCommits(db: Kysely<Database>): { db: Kysely<Database>; commits(): number } {
  let commits = 0;
  const counted = new Proxy(db, {
    get(target, property) {
      if (property === 'transaction') {
        return () => {
          const builder = target.transaction();
          return {
            execute: async <T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> => {
              const result = await builder.execute(work);
              commits += 1;
              return result;
            },
          };
        };
      }
      // Kysely keeps its state in private fields: its methods must run on the real instance.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: counted, commits: () => commits };
}
