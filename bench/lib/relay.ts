import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { buildApp } from '../../src/app.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createContext, type RelayContext } from '../../src/context.ts';
import { openDatabase, type Db, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { ThreadedEmailChannel } from '../../src/delivery/channels/email.thread.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { importDirectory } from '../../src/directory/directory.service.ts';
import { benchDirectory } from './directory.ts';
import { exampleReferral, type ReferralBody } from '../../src/referrals/referral.example.ts';

export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'benchmark-secret-that-is-at-least-32-characters';
const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface BenchDatabase {
  db: Db;
  url: string;
  pgSchema?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database: a new SQLite file (WAL, synchronous=FULL, as in production) or PostgreSQL schema. */
export async function createBenchDatabase(
  dialect: Dialect,
  pgPoolSize = 10,
  pgUrl = PG_URL,
): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
    const url = `sqlite:${join(dir, 'relay.db')}`;
    const db = openDatabase(url);
    await migrateToLatest(db);
    return { db, url, drop: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`, pgUrl);
  const db = openDatabase(pgUrl, { pgSchema: schema, pgPoolSize });
  await migrateToLatest(db);
  return {
    db,
    url: pgUrl,
    pgSchema: schema,
    drop: async () => {
      await db.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`, pgUrl);
    },
  };
}

/** One statement on the shared PostgreSQL server (or the server at `url`), in a connection of its own. */
export async function adminQuery(text: string, url = PG_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface BenchRelay {
  ctx: RelayContext;
  app: FastifyInstance;
  baseUrl: string;
  key: string;
  email: ThreadedEmailChannel;
  dispatcher: Dispatcher;
  watchdog: Watchdog;
  close(): Promise<void>;
}

/**
 * Relay in this process, as `relay start` wires it (app, ThreadedEmailChannel, Dispatcher, Watchdog), on a
 * fresh database with the benchmark's directory (directory.ts), listening on a free port. Nothing is started but HTTP:
 * each benchmark starts the dispatcher and watchdog when its measurement needs them.
 */
export async function startBenchRelay(
  dialect: Dialect,
  smtpUrl: string,
  env: Record<string, string> = {},
  pgUrl = PG_URL,
): Promise<BenchRelay> {
  const database = await createBenchDatabase(dialect, Number(env.PG_POOL ?? 10), pgUrl);
  const config = loadConfig({
    RELAY_ENV: 'test',
    RELAY_SECRET: SECRET,
    SMTP_TLS: 'off', // the benchmark's sink speaks in clear
    SMTP_URL: smtpUrl,
    LOG_LEVEL: 'silent',
    TEST_ALERT_INTERVAL: 'off',
    ...env,
  });
  const ctx = createContext(config, database.db, systemClock);
  await importDirectory(database.db.kysely, systemClock, await benchDirectory(), {
    actor: 'bench',
    source: 'bench',
  });
  const { key } = await createApiKey(
    database.db.kysely,
    systemClock,
    { name: 'bench ePCR', scope: 'referrals:write', sourceSystem: 'bench' },
    'bench',
    async () => true,
  );
  const app = buildApp(ctx);
  const email = new ThreadedEmailChannel({
    smtpUrl,
    poolSize: config.delivery.smtpPoolSize,
    timeoutMs: config.delivery.timeoutMs,
  });
  const dispatcher = new Dispatcher(ctx, { transports: { email }, logger: QUIET });
  const watchdog = new Watchdog(ctx, QUIET);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ctx,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    key,
    email,
    dispatcher,
    watchdog,
    close: async () => {
      await watchdog.stop();
      await dispatcher.stop();
      await app.close();
      email.close();
      await database.drop();
    },
  };
}

/** A distinct, valid referral routed to one team with one email delivery (B15 → birmingham-adults). */
export function benchReferral(run: string, i: number, nowMs = Date.now()): ReferralBody {
  const base = exampleReferral();
  return {
    ...base,
    source: { system: 'bench', reference: `BENCH-${run}-${i}` },
    incident: { ...base.incident, occurredAt: new Date(nowMs - 60_000).toISOString() },
  };
}
