import { cpus, freemem, totalmem } from 'node:os';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across the sink and the clients. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarise(values: number[]): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(values.length ? Math.max(...values) : Number.NaN),
  };
}

/** The middle of several rounds' figures and how far they ranged: what a single run cannot show. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median (the mean of the two middle values for an even count) and range; NaN when there are none. */
export function spread(values: number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n, median, min: sorted[0] as number, max: sorted[n - 1] as number };
}

/** `390.2 (343.4–462.2)`: the median, then the range, as the tables show them. */
export function formatSpread(s: Spread, digits = 1): string {
  if (s.n === 0) return '—';
  const r = (x: number) => round(x, digits);
  return s.n === 1 ? `${r(s.median)}` : `${r(s.median)} (${r(s.min)}–${r(s.max)})`;
}

/**
 * The order of contenders in each of `rounds` rounds, rotated by one each round, so none always runs
 * first (on a fresh machine) or last (after the others warmed the disk cache or heated the CPU).
 */
export function alternatingOrder<T>(contenders: readonly T[], rounds: number): T[][] {
  return Array.from({ length: rounds }, (_, r) =>
    contenders.map((_, i) => contenders[(i + r) % contenders.length] as T),
  );
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Machine {
  cpuModel: string;
  nproc: number;
  memory: string;
  node: string;
  platform: string;
  at: string;
}

export function machine(): Machine {
  let memory = `${Math.round(totalmem() / 2 ** 30)} GiB total, ${Math.round(freemem() / 2 ** 30)} GiB free`;
  try {
    memory = execSync('free -h', { encoding: 'utf8' }).split('\n')[1]?.replace(/\s+/g, ' ').trim() ?? memory;
  } catch {
    // free(1) is missing on some systems; os.totalmem() stands in
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    nproc: Number(execSync('nproc', { encoding: 'utf8' }).trim()),
    memory,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    at: new Date().toISOString(),
  };
}

export interface ProcessMemory {
  /** The highest VmRSS seen, sampled from /proc/<pid>/status. */
  peakRssMiB: number;
  /** The kernel's own high-water mark of the process's RSS over its whole life (VmHWM), read at the end. */
  hwmMiB?: number;
  samples: number;
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM), or undefined when the process or the field is not there. */
function procStatusMiB(pid: number | undefined, field: string): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kB = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    )?.[1];
    return kB === undefined ? undefined : Number(kB) / 1024;
  } catch {
    return undefined; // gone between the pid and the read, or no /proc (not Linux)
  }
}

/**
 * Samples other processes' RSS (VmRSS) every `everyMs` until stopped, summed over `pids` (a system of
 * several nodes counts them all); `pids` is asked each time, so a process that was restarted is
 * followed. On stop, also reads VmHWM (summed likewise), which catches a peak between samples.
 */
export function sampleProcessMemory(pids: () => (number | undefined)[], everyMs = 100): () => ProcessMemory {
  let peak = 0;
  let samples = 0;
  const take = () => {
    const rss = sumOf(pids(), 'VmRSS');
    if (rss === undefined) return;
    peak = Math.max(peak, rss);
    samples += 1;
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    const hwm = sumOf(pids(), 'VmHWM');
    return { peakRssMiB: round(peak), ...(hwm === undefined ? {} : { hwmMiB: round(hwm) }), samples };
  };
}

/** A /proc status field summed over processes; undefined when any of them cannot be read. */
function sumOf(pids: (number | undefined)[], field: string): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const value = procStatusMiB(pid, field);
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
