import { systemClock } from '../clock.ts';
import { loadConfig, type Config } from '../config.ts';
import { createContext, type RelayContext } from '../context.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';

/** Every command reads the same environment as `relay start`, opens the database and brings it up to date. */
export async function openRuntime(overrides: Partial<Config> = {}): Promise<RelayContext> {
  const config = { ...loadConfig(), ...overrides };
  // A node frozen inside a transaction must not hold its locks much longer than an interval: the
  // sweep (and every other node) may need those rows. Relay's transactions last milliseconds.
  const db = openDatabase(config.databaseUrl, {
    idleInTransactionTimeoutMs: Math.max(config.watchdogIntervalMs, 2000),
  });
  try {
    await migrateToLatest(db, config);
  } catch (error) {
    await db.close();
    throw error;
  }
  return createContext(Object.freeze(config), db, systemClock);
}
