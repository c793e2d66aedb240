import { cpus, freemem, totalmem } from 'node:os';
import { execSync } from 'node:child_process';
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

/** Samples this process's RSS and heap every `everyMs` until stopped; returns the peaks in MiB. */
export function sampleMemory(everyMs = 100): () => { rssMiB: number; heapMiB: number } {
  let rss = 0;
  let heap = 0;
  const take = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return { rssMiB: round(rss / 2 ** 20), heapMiB: round(heap / 2 ** 20) };
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
