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

/** Runs a command body and turns any failure into a one-line reason and a non-zero exit. */
export function command<A extends unknown[]>(
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      process.exitCode = 1;
      reportFailure(error);
    }
  };
}

function reportFailure(error: unknown): void {
  const e = error as { message?: string; errors?: { path: string; message: string }[]; code?: string };
  const reason = e?.code === 'ECONNREFUSED' ? 'cannot reach the database' : (e?.message ?? String(error));
  console.error(`relay: ${reason.split('\n')[0]}`);
  for (const issue of e?.errors ?? []) console.error(`  ${issue.path || '(file)'}: ${issue.message}`);
}
