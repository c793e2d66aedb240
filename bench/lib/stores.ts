import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/process.ts';
import {
  findPostgresBinaries,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../../test/cluster/private-postgres.ts';
import { findProcess } from './cpu.ts';
import { adminQuery } from './relay.ts';
import { sleep } from './stats.ts';

export { findPostgresBinaries, startPrivatePostgres, type PrivatePostgres };

/** A database made for one system's run: where it is, and how to remove it afterwards. */
export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The postmaster of the PostgreSQL server at `url` (on this machine), found by its port; its backends are its children. */
export function postmasterPid(url: string): number | undefined {
  const port = new URL(url).port || '5432';
  return findProcess((line) => /\bpostgres\b/.test(line) && line.includes(` -p ${port} `));
}

/** A new SQLite file in a temporary directory of its own; drop() removes the directory. */
export function sqliteFile(prefix: string): FreshDatabase {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    url: `sqlite:${join(dir, 'relay.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new database on the PostgreSQL server `serverUrl` points at (any database of it); returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await adminQuery(`CREATE DATABASE ${name}`, serverUrl);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by createDatabase, ending the sessions still connected to it. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, serverUrl);
}

/**
 * A Redis server of the chaos run's own, on a free port, so it can be restarted without touching the
 * shared one at 6379 that other engineers' tests use. `appendonly: false` is the configuration this
 * machine's Redis has (`save ""`, `appendonly no`: nothing on disk); `true` is what BullMQ's
 * documentation recommends for production (`appendonly yes`, `appendfsync everysec`).
 */
export interface PrivateRedis {
  host: string;
  port: number;
  url: string;
  /** The server's process id while it runs (its CPU is read from /proc). */
  readonly pid: number | undefined;
  /** SIGTERM (what `systemctl restart` sends: a clean shutdown), down for `downMs`, then started again. */
  restart(downMs: number): Promise<{ downAt: number; upAt: number }>;
  destroy(): Promise<void>;
}

/** Redis servers still running when the harness exits are killed with it. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startPrivateRedis(options: {
  appendonly: boolean;
  /** With `appendonly`: fsync the log once a second (BullMQ's advice) or after every write. */
  appendfsync?: 'everysec' | 'always';
}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-chaos-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...(options.appendonly
      ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec']
      : ['--appendonly', 'no']),
  ];
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    live.add(child);
    exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 20_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`redis-server exited:\n${output}`)));
    });
  };
  const stop = async (signal: NodeJS.Signals) => {
    server?.kill(signal);
    await exited;
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return server && server.exitCode === null && server.signalCode === null ? server.pid : undefined;
    },
    async restart(downMs) {
      const downAt = Date.now();
      await stop('SIGTERM');
      await sleep(downMs);
      await start();
      return { downAt, upAt: Date.now() };
    },
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
