import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import pg from 'pg';
import { sqlitePath } from '../config.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
  /**
   * PostgreSQL only: a new client outside the pool, with the pool's settings, for what holds one
   * session open for long (LISTEN). The caller connects and ends it.
   */
  newClient?: () => pg.Client;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (tests give each file its own). */
  pgSchema?: string;
  pgPoolSize?: number;
  /**
   * PostgreSQL: the server ends a session left idle inside a transaction this long, with its locks.
   * Relay's transactions never wait on anything but the database, so only a frozen or cut-off node
   * leaves one idle; without this, every node needing a row it had locked would wait for it.
   */
  idleInTransactionTimeoutMs?: number;
}

// COUNT(*) and BIGINT come back from pg as strings; every count we read fits in a double.
pg.types.setTypeParser(20, (value) => Number(value));

export function openDatabase(url: string, options: OpenOptions = {}): Db {
  if (url.startsWith('sqlite:')) return openSqlite(sqlitePath(url));
  return openPostgres(url, options);
}

function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  // WAL with synchronous=FULL: a committed referral survives power loss, and readers never block the writer.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // A checkpoint copies the log back into the database and fsyncs both, inside the COMMIT that
  // crosses the threshold, on the event loop. At SQLite's default (every 1,000 pages, 4 MiB) the
  // same hot pages (index roots, the audit head, the newest leaves) were copied back every few
  // commits; every 10,000 pages (a log of up to 40 MiB) commits held the event loop 30 % less in a
  // burst (docs/performance.md, SQLite's checkpoints).
  database.pragma('wal_autocheckpoint = 10000');
  const kysely = new Kysely<Database>({
    dialect: new RollbackTolerantSqliteDialect({ database: withStatementCache(database) }),
  });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
}

/**
 * SQLite rolls a transaction back itself on some errors (SQLITE_FULL, a full disk, among them);
 * Kysely's ROLLBACK after it then fails with "no transaction is active", and that error would
 * replace the one that says what happened. Ignoring it keeps the real error for the caller.
 */
class RollbackTolerantSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      try {
        await rollback(connection);
      } catch (error) {
        if (!/no transaction is active/.test((error as Error).message)) throw error;
      }
    };
    return driver;
  }
}

/**
 * Kysely prepares every statement afresh, and compiling SQL was a millisecond of each intake; the
 * same few hundred statements recur, so the most recently used are kept prepared. (Nothing streams
 * with `iterate`, which would make a shared statement busy.)
 */
function withStatementCache(database: SQLite.Database, size = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text) {
      let statement = cache.get(text);
      if (statement) cache.delete(text);
      else statement = database.prepare(text);
      cache.set(text, statement); // most recent last
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}

function openPostgres(url: string, options: OpenOptions): Db {
  const settings: pg.ClientConfig = {
    connectionString: url,
    // While the server is down or restarting, a request fails in seconds (503) instead of hanging.
    connectionTimeoutMillis: 5000,
    // A peer that vanished without closing the socket is noticed, so its session (and locks) end.
    keepAlive: true,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  };
  const pool = new pg.Pool({ ...settings, max: options.pgPoolSize ?? 10 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // A client in use also emits 'error' when the server goes (a restart), besides failing its query;
  // unheard, that event would crash the process. The pool drops the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    // Queued ahead of the query the client was taken for, so it applies from the first one.
    const ms = options.idleInTransactionTimeoutMs;
    if (ms)
      void client.query(`set idle_in_transaction_session_timeout = ${Math.round(ms)}`).catch(() => undefined);
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    close: () => kysely.destroy(),
    newClient: () => new pg.Client(settings),
  };
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db.kysely);
    return true;
  } catch {
    return false;
  }
}

/** A unique-constraint violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | undefined;
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * The engine behind a Kysely instance or transaction, for the few statements written differently on
 * PostgreSQL to save a round trip (in-process SQLite has none to save).
 */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
