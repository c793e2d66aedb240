import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import type { Dialect } from '../../src/db/database.ts';
import { inheritedClockEnv } from './clock.ts';
import { productionSettings } from './production.ts';
import { childDatabaseEnv, createTestDatabase, type TestDatabase } from './db.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/relay.js', import.meta.url));

/**
 * The environment a child `relay` gets: test mode, a faked clock, the caller's settings. Logs at
 * info, so the start-up and shutdown lines (JSON, like every line on its standard output) are there
 * to wait for.
 */
export function relayEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...inheritedClockEnv(),
    RELAY_ENV: 'test',
    LOG_LEVEL: 'info',
    // A worker's probes on a free port: parallel test files would collide on the default 9464.
    METRICS_PORT: '0',
    // The test SMTP servers speak in clear; the TLS test sets its own. Production refuses `off`, so a
    // production start keeps the default (STARTTLS) unless the test says otherwise.
    ...(env.RELAY_ENV === 'production' ? {} : { SMTP_TLS: 'off' }),
    ...env,
  };
}

/**
 * What a production node refuses to start without (productionSettings), on free ports; the caller
 * adds the database and anything else it needs.
 */
export async function productionEnv(): Promise<Record<string, string>> {
  return {
    ...productionSettings(),
    SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    PORT: String(await freePort()),
    BOUNCE_SMTP_PORT: String(await freePort()),
  };
}

/**
 * Ceilings for waiting on a child or an event: generous, because a loaded two-core machine can take
 * tens of seconds to start a process; a test that passes never waits for them.
 */
const PROCESS_CEILING_MS = 120_000;
const EVENT_CEILING_MS = 60_000;

/** Runs a short `relay` command to completion. */
export function runRelay(args: string[], env: Record<string, string>, timeoutMs = PROCESS_CEILING_MS) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: relayEnv(env),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RelayProcess {
  child: ChildProcess;
  /** Standard output and standard error together, as they came. */
  output: () => string;
  /** Standard output alone: JSON log lines. */
  stdout: () => string;
  /** Standard error alone: text for a person (the demo's passwords, a failed start's reason). */
  stderr: () => string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a long-running `relay start`; its output is kept for assertions. `root` runs another copy
 * of Relay (a deployed tree) instead of this checkout.
 */
export function startRelay(
  env: Record<string, string>,
  args: string[] = [],
  { root = ROOT }: { root?: string } = {},
): RelayProcess {
  const bin = join(root, 'bin', 'relay.js');
  const child = spawn(process.execPath, [bin, 'start', ...args], { cwd: root, env: relayEnv(env) });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((output += chunk), (stdout += chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((output += chunk), (stderr += chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForOutput(pattern, timeoutMs = PROCESS_CEILING_MS) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`relay exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export interface DemoRelay {
  relay: RelayProcess;
  /** Each demo account's password, by email address. */
  passwords: Map<string, string>;
  /** The demo ePCR's API key (referrals:write). */
  epcrKey: string;
}

/**
 * `relay start --demo` on the caller's settings, once it is running, with the keys and passwords
 * it printed for the person who started it (on standard error, never in the JSON log).
 */
export async function startDemoRelay(env: Record<string, string>): Promise<DemoRelay> {
  const relay = startRelay({ MAILCATCHER_PORT: '0', ...env }, ['--demo']);
  await relay.waitForOutput(/is running/).catch((error: unknown) => {
    relay.child.kill('SIGKILL');
    throw error;
  });
  const passwords = new Map<string, string>();
  for (const match of relay.stderr().matchAll(/^\s+\S+\s+(\S+@example\.org)\s+password: (\S+)$/gm)) {
    passwords.set(match[1]!, match[2]!);
  }
  const epcrKey = /ePCR, referrals:write .*: (\S+)$/m.exec(relay.stderr())?.[1];
  if (!epcrKey || passwords.size === 0)
    throw new Error(`no demo keys or passwords printed:\n${relay.output()}`);
  return { relay, passwords, epcrKey };
}

export interface ProcessRelaySuite {
  /** The suite's database, unmigrated at first: the child `relay` migrates it as a deployment would. */
  database: TestDatabase;
  smtp: TestSmtpServer;
  /** What every child of the suite runs on: the database, a free port, its BASE_URL, the SMTP server, the caller's settings. */
  env: Record<string, string>;
  /** Where the started relay answers (BASE_URL). */
  base: string;
  /** Runs a short `relay` command on the suite's settings, asserts it succeeded, and answers its standard output, trimmed. */
  run(args: string[]): string;
  /** A new API key that raises referrals as the ePCR `system`. */
  epcrKey(system: string): string;
  /** `relay start` on the suite's settings, once it is running; one still running after the tests is killed. */
  start(): Promise<RelayProcess>;
  /** POSTs a referral as JSON with `key`, and answers the response as it came. */
  postReferral(key: string, body: unknown): Promise<Response>;
}

/**
 * The one way an end-to-end suite runs real `relay` processes: before its tests a fresh database
 * (not migrated), a test SMTP server, a free port and the directory `directory` imported (the
 * argument of `relay directory import`: a file, or `--demo`); after them, any relay still running
 * killed and the rest removed. `env` is the suite's own settings, added last.
 */
export function useProcessRelaySuite(
  dialect: Dialect,
  env: Record<string, string>,
  { directory = '--demo' }: { directory?: string } = {},
): () => ProcessRelaySuite {
  let suite: ProcessRelaySuite | undefined;
  const running: RelayProcess[] = [];
  before(async () => {
    const database = await createTestDatabase(dialect, { migrate: false });
    const smtp = await startTestSmtpServer();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const all = {
      ...childDatabaseEnv(database),
      PORT: String(port),
      BASE_URL: base,
      SMTP_URL: smtp.url,
      ...env,
    };
    const run = (args: string[]) => {
      const result = runRelay(args, all);
      if (result.status !== 0)
        throw new Error(`relay ${args[0]} failed (${result.status}):\n${result.stderr}`);
      return result.stdout.trim();
    };
    suite = {
      database,
      smtp,
      env: all,
      base,
      run,
      epcrKey: (system) =>
        run(['apikey', 'create', '--name', system, '--scope', 'referrals:write', '--system', system]),
      async start() {
        const relay = startRelay(all);
        running.push(relay);
        await relay.waitForOutput(/is running/);
        return relay;
      },
      postReferral: (key, body) =>
        fetch(`${base}/api/v1/referrals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
    };
    run(['directory', 'import', directory]);
  });
  after(async () => {
    // Killing one that has already exited does nothing.
    for (const relay of running) relay.child.kill('SIGKILL');
    await suite?.smtp.close();
    await suite?.database.drop();
  });
  return () => {
    if (!suite) throw new Error('The process suite is made in a before hook; use it inside tests.');
    return suite;
  };
}

/** Re-exported: the process tests take every port from here. */
export { freePort };

/** Polls until `check` returns true, or fails naming `what`: the one way a test waits for a condition. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = EVENT_CEILING_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
