import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import type { Kysely, Transaction } from 'kysely';
import pg from 'pg';
import { openDatabase, type Db, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it and insists it answers). */
export const DIALECTS: Dialect[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

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

/** Runs the same suite once per dialect, each with its own fresh database. */
export function describeEachDialect(
  name: string,
  suite: (database: () => TestDatabase, dialect: Dialect) => void,
): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      let database: TestDatabase | undefined;
      before(async () => {
        database = await createTestDatabase(dialect);
      });
      after(async () => {
        await database?.drop();
      });
      suite(() => {
        if (!database) throw new Error('The test database is made in a before hook; use it inside tests.');
        return database;
      }, dialect);
    });
  }
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
