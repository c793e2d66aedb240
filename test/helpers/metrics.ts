import assert from 'node:assert/strict';

/** Prometheus text exposition, read back for assertions: `name{k=v,...}` (labels sorted) → value. */
export type Samples = Map<string, number>;

const labelKey = (labels: [string, string][]) =>
  labels
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');

/** Every label pair on every sample line of a Prometheus text exposition. */
export function labelPairs(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => [...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)])
    .map((m) => [m[1] ?? '', m[2] ?? '']);
}

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l): [string, string] => [
      l[1] ?? '',
      l[2] ?? '',
    ]);
    samples.set(`${m[1]}{${labelKey(labels)}}`, Number(m[3]));
  }
  return samples;
}

export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const key = `${name}{${labelKey(Object.entries(labels))}}`;
  const value = samples.get(key);
  assert.notEqual(value, undefined, `no sample ${key}`);
  return value as number;
}

/** Whether the exposition has a sample line for `name` with exactly these labels. */
export function has(samples: Samples, name: string, labels: Record<string, string> = {}): boolean {
  return samples.has(`${name}{${labelKey(Object.entries(labels))}}`);
}

/** The values `label` takes across the samples of `name`, sorted and without repeats. */
export function series(samples: Samples, name: string, label: string): string[] {
  const values = new Set<string>();
  for (const key of samples.keys()) {
    if (!key.startsWith(`${name}{`)) continue;
    const value = new RegExp(`(?:\\{|,)${label}=([^,}]*)`).exec(key)?.[1];
    if (value !== undefined) values.add(value);
  }
  return [...values].sort();
}
