import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Machine } from './stats.ts';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface Table {
  title: string;
  note?: string;
  head: string[];
  rows: (string | number | boolean)[][];
}

export function markdown(title: string, machine: Machine, command: string, tables: Table[]): string {
  const lines = [
    `# ${title}`,
    '',
    `Measured ${machine.at} on ${machine.cpuModel}, ${machine.nproc} cores (shared), memory: ${machine.memory}; Node ${machine.node} (${machine.platform}).`,
    '',
    `Reproduce: \`${command}\``,
    '',
  ];
  for (const t of tables) {
    lines.push(`## ${t.title}`, '');
    if (t.note) lines.push(t.note, '');
    lines.push(`| ${t.head.join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`);
    for (const r of t.rows) lines.push(`| ${r.join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** A horizontal bar chart: one bar per labelled value, scaled to the largest. */
export function barChart(title: string, unit: string, bars: { label: string; value: number }[]): string {
  const width = 760;
  const barH = 22;
  const left = 330;
  const top = 40;
  const height = top + bars.length * (barH + 8) + 20;
  const max = Math.max(1, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const items = bars.map((b, i) => {
    const y = top + i * (barH + 8);
    const w = Number.isFinite(b.value) ? Math.max(1, ((width - left - 90) * b.value) / max) : 0;
    return (
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end" font-size="13">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="#005eb8"/>` +
      `<text x="${left + w + 6}" y="${y + 16}" font-size="13">${b.value} ${esc(unit)}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Arial, sans-serif">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="12" y="24" font-size="16" font-weight="bold">${esc(title)}</text>${items.join('')}</svg>\n`
  );
}

export function writeResults(stem: string, json: unknown, md: string, svg: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = `${RESULTS_DIR}${stem}`;
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, svg);
  return base;
}
