import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/process.ts';

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own, in a temporary directory on a free port, so a test can stop
 * and restart it without failing every other test that uses the shared server at the same time
 * (`npm test` runs two files at once).
 */
export interface PrivatePostgres {
  url: string;
  /**
   * Stops the server (fast shutdown: sessions are terminated), keeps it down for `downMs` and until
   * `whileDown` settles, then starts it again.
   */
  restart(downMs: number, whileDown?: () => Promise<void>): Promise<{ downAt: number; upAt: number }>;
  /** Stops it for good and removes its files; safe to call whatever state it is in. */
  destroy(): Promise<void>;
}

/** The server binaries: PG_BINDIR, or the newest Debian/Ubuntu install under /usr/lib/postgresql. */
export function findPostgresBinaries(): string | undefined {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

export async function startPrivatePostgres(bindir: string): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  // PostgreSQL refuses to run as root; CI runs as root, so the server runs as `postgres` there.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bindir, tool), ...args])
      : run(join(bindir, tool), args);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = (mode: 'fast' | 'immediate') => pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);

  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs, whileDown) {
      const downAt = Date.now();
      await stop('fast');
      try {
        await Promise.all([new Promise((resolve) => setTimeout(resolve, downMs)), whileDown?.()]);
      } finally {
        await start();
      }
      return { downAt, upAt: Date.now() };
    },
    async destroy() {
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
