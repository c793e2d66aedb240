import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { meshAuthorization } from '../../src/delivery/channels/mesh.client.ts';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';
import type { Directory } from '../../src/directory/directory.types.ts';
import { freePort } from './ports.ts';
import { describeEachDialect } from './db.ts';
import type { Dialect } from '../../src/db/database.ts';
import { it } from 'node:test';

/**
 * NHS England's MESH sandbox (`mesh-sandbox` from PyPI), run as a child process from the virtual
 * environment .ci/run makes (.venv-ci), on a free port, in memory, with full authentication: the
 * Authorization header's HMAC is checked against SHARED_KEY and each mailbox's password.
 *
 * Its canned mailboxes (mesh_sandbox/store/data/mailboxes.jsonl) all have the password `password`:
 * X26ABC1 is Relay's own here, X26ABC2 the team's.
 */
export const SANDBOX_SHARED_KEY = 'TestKey';
export const SANDBOX_PASSWORD = 'password';
export const RELAY_MAILBOX = 'X26ABC1';
export const TEAM_MAILBOX = 'X26ABC2';
export const SANDBOX_WORKFLOW = 'TEST_WORKFLOW';

const VENV_PYTHON = join(import.meta.dirname, '..', '..', '.venv-ci', 'bin', 'python');

/**
 * Why the sandbox cannot run here, or undefined when it can. Locally a missing venv skips the MESH
 * tests with this reason; in CI (CI set) it is no reason: the tests fail, so they never go missing.
 */
export function sandboxUnavailable(): string | undefined {
  if (process.env.CI) return undefined;
  if (!existsSync(VENV_PYTHON))
    return 'mesh-sandbox is not installed: python3 -m venv .venv-ci && .venv-ci/bin/pip install mesh-sandbox';
  return undefined;
}

/**
 * A suite that needs the sandbox, on each engine; where the sandbox cannot run (locally, without the
 * venv) one skipped test says why instead.
 */
export function describeWithMeshSandbox(name: string, suite: (dialect: Dialect) => void): void {
  const skip = sandboxUnavailable();
  if (skip) it(name, { skip }, () => undefined);
  else describeEachDialect(name, suite);
}

export interface MeshSandbox {
  url: string;
  /** Relay's MESH_* settings for this sandbox (plain http: no client certificate). */
  env: Record<string, string>;
  /** A signed request as `mailbox` (password `password`), answered with status, headers and body. */
  as(
    mailbox: string,
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; headers: Headers; body: string }>;
  /** The sandbox's test-only admin API (no authentication). */
  admin(method: string, path: string, json?: unknown): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mesh-sandbox exited (${child.exitCode}):\n${output()}`);
    const up = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`mesh-sandbox did not answer /health within 30 s:\n${output()}`);
}

/** Starts a sandbox of its own for the calling suite; `stop()` ends it. Throws when it cannot start. */
export async function startMeshSandbox(): Promise<MeshSandbox> {
  if (!existsSync(VENV_PYTHON))
    throw new Error(`mesh-sandbox cannot start: no ${VENV_PYTHON} (.ci/run makes it)`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    VENV_PYTHON,
    ['-m', 'uvicorn', 'mesh_sandbox.api:app', '--host', '127.0.0.1', '--port', String(port)],
    {
      env: { ...process.env, AUTH_MODE: 'full', STORE_MODE: 'memory', SHARED_KEY: SANDBOX_SHARED_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitUntilUp(url, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    env: {
      MESH_URL: url,
      MESH_MAILBOX: RELAY_MAILBOX,
      MESH_PASSWORD: SANDBOX_PASSWORD,
      MESH_SHARED_KEY: SANDBOX_SHARED_KEY,
    },
    async as(mailbox, method, path, body) {
      const authorization = meshAuthorization(
        { mailbox, password: SANDBOX_PASSWORD, sharedKey: SANDBOX_SHARED_KEY },
        new Date(),
      );
      const response = await fetch(`${url}${path}`, { method, headers: { authorization }, body });
      return { status: response.status, headers: response.headers, body: await response.text() };
    },
    async admin(method, path, json) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: json === undefined ? {} : { 'content-type': 'application/json' },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      return { status: response.status, body: await response.text() };
    },
    stop,
  };
}

/** The demo directory with Birmingham adults also on MESH, at the sandbox's second mailbox. */
export async function directoryWithMesh(): Promise<Directory> {
  const directory = structuredClone(await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
  const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === 'birmingham-adults');
  assert.ok(team);
  team.channels.push({
    kind: 'mesh',
    mailbox: TEAM_MAILBOX,
    workflowId: SANDBOX_WORKFLOW,
    owner: 'Birmingham MASH systems team',
    verifyBy: '2027-06-30',
  });
  return directory;
}
