import type { Browser } from 'playwright-core';
import type { Dialect } from '../../src/db/database.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { childDatabaseEnv, createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, startDemoRelay, type DemoRelay } from '../helpers/process.ts';

export interface DemoInBrowser extends DemoRelay {
  /** The relay's database, to check what the pages did. */
  database: TestDatabase;
  /** Where the relay serves, e.g. http://127.0.0.1:PORT (also its BASE_URL). */
  base: string;
  browser: Browser;
  /** Closes the browser, stops the relay and drops its database. */
  stop(): Promise<void>;
}

/**
 * For a browser suite: `relay start --demo` as a child process on a fresh database of `dialect`
 * (with the suite's settings, e.g. its pinned clock), its printed passwords and key, and Chromium.
 */
export async function startDemoInBrowser(
  dialect: Dialect,
  env: Record<string, string>,
): Promise<DemoInBrowser> {
  const database = await createTestDatabase(dialect, { migrate: false });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const demo = await startDemoRelay({
    ...childDatabaseEnv(database),
    PORT: String(port),
    BASE_URL: base,
    ...env,
  });
  const browser = await launchBrowser();
  const stop = async () => {
    await browser.close();
    demo.relay.child.kill('SIGTERM');
    await demo.relay.exited;
    await database.drop();
  };
  return { ...demo, database, base, browser, stop };
}
