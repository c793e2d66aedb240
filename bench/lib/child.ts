import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from './stats.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A long-running child process under a supervisor, as systemd or a container runtime would run it:
 * started, probed until its HTTP endpoint answers, SIGKILLed on demand and started again; an exit
 * nobody asked for is counted as a crash and the process is started again a second later.
 */
export interface Supervised {
  name: string;
  /** Spawns the process and resolves once `readyUrl` answers 200. */
  start(): Promise<void>;
  /** SIGKILL, and resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after `timeoutMs`; no restart follows. */
  stop(timeoutMs?: number): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  /** The running process's id; undefined before the first start and while it is down. */
  readonly pid: number | undefined;
  /** Exits that were neither our SIGKILL nor our stop. */
  crashes: number;
  /** The last lines the process wrote (stdout and stderr), for a report when something goes wrong. */
  tail(): string;
}

/** Children still running when the harness exits (an error, Ctrl-C) would run on; they are killed. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function supervise(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
): Supervised {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let expectingExit = false;
  let stopped = false;
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };

  const self: Supervised = {
    name,
    crashes: 0,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async start() {
      expectingExit = false;
      stopped = false;
      const spawned = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = spawned;
      live.add(spawned);
      spawned.stdout?.on('data', keep);
      spawned.stderr?.on('data', keep);
      exited = new Promise<void>((resolve) =>
        spawned.once('exit', (code, signal) => {
          live.delete(spawned);
          resolve();
          if (expectingExit || stopped || child !== spawned) return;
          self.crashes += 1;
          keep(Buffer.from(`[${name} exited by itself: code ${code}, signal ${signal}]`));
          void sleep(1000)
            .then(() => (stopped || child !== spawned ? undefined : self.start()))
            .catch(() => undefined);
        }),
      );
      await self.waitReady();
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(`${name} not ready after ${timeoutMs} ms:\n${self.tail()}`);
        await sleep(100);
      }
    },
    async kill() {
      expectingExit = true;
      child?.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 15_000) {
      stopped = true;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    tail: () => lines.slice(-40).join('\n'),
  };
  return self;
}

/**
 * Several supervised processes run as one system (a web node and a worker node): started in order,
 * each ready before the next starts, and stopped or killed together. `pid` is the first's (where the
 * load goes); crashes and output are every part's.
 */
export function together(name: string, parts: Supervised[]): Supervised {
  const first = parts[0];
  if (!first) throw new Error(`${name}: no processes`);
  return {
    name,
    get pid() {
      return first.pid;
    },
    get crashes() {
      return parts.reduce((sum, p) => sum + p.crashes, 0);
    },
    async start() {
      for (const p of parts) await p.start();
    },
    async waitReady(timeoutMs) {
      for (const p of parts) await p.waitReady(timeoutMs);
    },
    async kill() {
      await Promise.all(parts.map((p) => p.kill()));
    },
    async stop(timeoutMs) {
      await Promise.all(parts.map((p) => p.stop(timeoutMs)));
    },
    tail: () => parts.map((p) => `[${p.name}]\n${p.tail()}`).join('\n'),
  };
}
