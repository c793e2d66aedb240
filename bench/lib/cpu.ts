import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of every thread, plus cutime + cstime: children it has already reaped. */
  cpuMs: number;
}

/** The fields of a /proc stat file after the command name, from the state on (state is field 0). */
function statFields(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** The clock ticks in some of a stat file's time fields (statFields' indexes), summed, in milliseconds. */
function cpuMsOf(fields: string[], indexes: number[]): number {
  return (indexes.reduce((sum, i) => sum + Number(fields[i]), 0) * 1000) / TICKS_PER_SECOND;
}

/** /proc/<pid>/stat, or undefined when the process is gone (or there is no /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const fields = statFields(`/proc/${pid}/stat`);
    return { pid, ppid: Number(fields[1]), cpuMs: cpuMsOf(fields, [11, 12, 13, 14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds used so far by this process's main thread alone: the event loop (its task id is
 * the process id). Worker threads, GC helpers and libuv's pool are left out; waiting for a commit's
 * fsync is not CPU, so it is left out too.
 */
export function eventLoopCpuMs(): number {
  return cpuMsOf(statFields(`/proc/self/task/${process.pid}/stat`), [11, 12]);
}

function allProcesses(): ProcStat[] {
  let pids: number[] = [];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  return pids.map(readProcStat).filter((p): p is ProcStat => p !== undefined);
}

/**
 * CPU milliseconds used so far by `root` and all its descendants, all their threads included (a
 * Node process's worker threads; PostgreSQL's backends, which are the postmaster's children). A
 * descendant that has exited and been reaped is in its parent's cutime/cstime, so nothing is lost
 * between two readings as long as the root lives.
 */
export function processTreeCpuMs(root: number): number {
  const all = allProcesses();
  const children = new Map<number, ProcStat[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  let total = 0;
  const stack = all.filter((p) => p.pid === root);
  while (stack.length > 0) {
    const p = stack.pop() as ProcStat;
    total += p.cpuMs;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return total;
}

/** The first process whose command line (arguments joined by spaces) matches; the PostgreSQL postmaster by its port. */
export function findProcess(match: (commandLine: string) => boolean): number | undefined {
  for (const dir of readdirSync('/proc')) {
    if (!/^\d+$/.test(dir)) continue;
    try {
      const line = readFileSync(`/proc/${dir}/cmdline`, 'utf8').split('\0').join(' ');
      if (match(line)) return Number(dir);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** What each named process tree spent between start and stop, in CPU milliseconds. */
export type CpuReading = Record<string, number>;

/** This process alone, all its threads: not its children (the load generator, the sink). */
export const OWN_PROCESS = 'own process';

/**
 * This process's children that have exited and been reaped (cutime + cstime of /proc/self/stat):
 * a load generator that ran its load and exited between start and stop.
 */
export const REAPED_CHILDREN = 'reaped children';

function reapedChildrenCpuMs(): number {
  return cpuMsOf(statFields('/proc/self/stat'), [13, 14]);
}

/**
 * Starts counting the CPU of several process trees (the system's own process, or its processes
 * summed; its Redis or PostgreSQL server); `pids` are asked at start and at stop, so a process
 * restarted in between is followed (its CPU before the restart is then lost, which the caller can
 * see as a crash).
 * OWN_PROCESS for a pid means this process without its children; REAPED_CHILDREN its children
 * that exited in between.
 */
export function meterCpu(
  pids: Record<
    string,
    () => number | (number | undefined)[] | typeof OWN_PROCESS | typeof REAPED_CHILDREN | undefined
  >,
): () => CpuReading {
  const own = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const read = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        const p = pid();
        if (p === OWN_PROCESS) return [name, own()];
        if (p === REAPED_CHILDREN) return [name, reapedChildrenCpuMs()];
        // Several processes (a system of several nodes) count together; one that is down spoils the sum.
        const roots = Array.isArray(p) ? p : [p];
        return [
          name,
          roots.reduce<number>((sum, r) => sum + (r === undefined ? Number.NaN : processTreeCpuMs(r)), 0),
        ];
      }),
    );
  const start = read();
  return () => {
    const end = read();
    return Object.fromEntries(Object.keys(pids).map((k) => [k, (end[k] ?? 0) - (start[k] ?? 0)]));
  };
}
