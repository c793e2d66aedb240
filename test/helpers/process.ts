import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inheritedClockEnv } from './clock.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/relay.js', import.meta.url));

/** The environment a child `relay` gets: quiet logs, test mode, a faked clock, the caller's settings. */
export function relayEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...inheritedClockEnv(),
    RELAY_ENV: 'test',
    LOG_LEVEL: 'warn',
    // A worker's probes on a free port: parallel test files would collide on the default 9464.
    METRICS_PORT: '0',
    // The test SMTP servers speak in clear; the TLS test sets its own. Production refuses `off`, so a
    // production start keeps the default (STARTTLS) unless the test says otherwise.
    ...(env.RELAY_ENV === 'production' ? {} : { SMTP_TLS: 'off' }),
    ...env,
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
  output: () => string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a long-running `relay start`; its output is kept for assertions. */
export function startRelay(env: Record<string, string>, args: string[] = []): RelayProcess {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { cwd: ROOT, env: relayEnv(env) });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

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
