import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { buildApp } from '../../src/app.ts';
import { SettableClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createContext, type RelayContext } from '../../src/context.ts';
import type { Dialect } from '../../src/db/database.ts';
import {
  DEMO_DIRECTORY_PATH,
  importDirectory,
  readDirectoryFile,
} from '../../src/directory/directory.service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestRelay {
  ctx: RelayContext;
  app: FastifyInstance;
  clock: SettableClock;
  database: TestDatabase;
  /** A referrals:write key for source system `test-epcr`. */
  epcrKey: string;
  /** An acknowledgements:write key for birmingham-adults. */
  teamKey: string;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export function testConfig(overrides: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({
    RELAY_ENV: 'test',
    RELAY_SECRET: TEST_SECRET,
    BASE_URL: 'http://relay.test',
    // The settable clock is a year away from the database server's: a test of skew turns this on.
    MAX_CLOCK_SKEW: 'off',
    // Every app.inject() comes from 127.0.0.1: files that sign in many people would hit the real
    // limit of 10 a minute. The limit's own test sets it low.
    SIGN_IN_RATE_LIMIT: '10000',
    ...overrides,
  });
}

/** A whole Relay on a fresh database with the demo directory, a settable clock and two API keys. */
export async function createTestRelay(
  dialect: Dialect,
  options: { env?: Record<string, string>; now?: string; directory?: unknown } = {},
): Promise<TestRelay> {
  const database = await createTestDatabase(dialect);
  const clock = new SettableClock(options.now ?? '2026-11-25T11:00:00Z');
  const ctx = createContext(testConfig(options.env), database.db, clock);
  const directory = options.directory ?? (await readDirectoryFile(DEMO_DIRECTORY_PATH));
  await importDirectory(database.db.kysely, clock, directory, { actor: 'test', source: 'test' });
  const anyTeam = async () => true;
  const epcr = await createApiKey(
    database.db.kysely,
    clock,
    { name: 'test ePCR', scope: 'referrals:write', sourceSystem: 'test-epcr' },
    'test',
    anyTeam,
  );
  const team = await createApiKey(
    database.db.kysely,
    clock,
    { name: 'test team', scope: 'acknowledgements:write', teamId: 'birmingham-adults' },
    'test',
    anyTeam,
  );
  const app = buildApp(ctx);
  await app.ready();
  return {
    ctx,
    app,
    clock,
    database,
    epcrKey: epcr.key,
    teamKey: team.key,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

/** Counts every row that intake could write, to prove a rejected request wrote nothing. */
export async function rowCounts(relay: TestRelay): Promise<Record<string, number>> {
  const db = relay.ctx.db.kysely;
  const tables = [
    'referrals',
    'routes',
    'triage_items',
    'deliveries',
    'referral_events',
    'audit_log',
    'reference_counters',
  ] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}
