/**
 * Intake before and after a change, side by side: `BENCH_BEFORE=<a checkout of the old code, with
 * this bench/ copied in> node --import tsx bench/intake.sides.ts` runs `BENCH_ONLY=intake npm run
 * bench` in that checkout and in this one, in turns (the order swapped each round), BENCH_ROUNDS
 * times, then tabulates each figure's median and range and the after ÷ before ratio within each
 * round. On a shared machine only figures taken in the same minutes compare.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IntakeRow } from './intake.bench.ts';
import { alternatingOrder, formatSpread, log, machine, spread } from './lib/stats.ts';

const before = process.env.BENCH_BEFORE;
if (!before) throw new Error('Set BENCH_BEFORE to the old checkout (with this bench/ in it)');
const trees = [
  { name: 'before', dir: resolve(before) },
  { name: 'after', dir: resolve('.') },
];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
type Run = { tree: string; round: number; rows: IntakeRow[] };
const runs: Run[] = [];

function newestResult(dir: string): string {
  const results = join(dir, 'bench/results');
  const files = readdirSync(results).filter((f) => /^\d.*\.json$/.test(f));
  return join(results, files.sort().at(-1) as string);
}

for (const [round, order] of alternatingOrder(trees, ROUNDS).entries()) {
  for (const tree of order) {
    log(`round ${round + 1}: ${tree.name} (${tree.dir})`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
      cwd: tree.dir,
      env: { ...process.env, BENCH_ONLY: 'intake' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`${tree.name} failed with ${run.status}`);
    const json = JSON.parse(readFileSync(newestResult(tree.dir), 'utf8')) as { intake: IntakeRow[] };
    runs.push({ tree: tree.name, round, rows: json.intake });
  }
}

const figures: [string, (r: IntakeRow) => number | undefined, number][] = [
  ['referrals/s', (r) => r.perSecond, 1],
  ['CPU ms per referral (Relay process)', (r) => r.cpuMsPerReferral, 2],
  ['PostgreSQL CPU ms per referral', (r) => r.storeCpuMsPerReferral, 2],
  ['statements per referral', (r) => r.statementsPerReferral, 2],
  ['p50 ms', (r) => r.latencyMs.p50, 1],
];
const row = (run: Run, dialect: string, clients: number) =>
  run.rows.find((r) => r.dialect === dialect && r.clients === clients);
const levels = [...new Set(runs.flatMap((r) => r.rows.map((x) => `${x.dialect}|${x.clients}`)))];
const lines = [
  `# Intake before and after, ${ROUNDS} alternating rounds (${machine().at})`,
  '',
  `Command: \`BENCH_BEFORE=${before} ${process.env.BENCH_SCALE ? `BENCH_SCALE=${process.env.BENCH_SCALE} ` : ''}node --import tsx bench/intake.sides.ts\``,
  '',
  '| dialect | clients | figure | before | after | after ÷ before (per round) |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const level of levels) {
  const [dialect = '', clients = 0] = level.split('|').map((x, i) => (i === 1 ? Number(x) : x)) as [
    string,
    number,
  ];
  for (const [name, figure, digits] of figures) {
    const of = (tree: string) =>
      runs.filter((r) => r.tree === tree).map((r) => figure(row(r, dialect, clients) as IntakeRow) ?? NaN);
    const ratios = Array.from({ length: ROUNDS }, (_, round) => {
      const pick = (tree: string) => runs.find((r) => r.tree === tree && r.round === round);
      const [b, a] = [pick('before'), pick('after')].map((r) =>
        r ? figure(row(r, dialect, clients) as IntakeRow) : NaN,
      );
      return (a ?? NaN) / (b ?? NaN);
    });
    if (of('before').every(Number.isNaN)) continue;
    lines.push(
      `| ${dialect} | ${clients} | ${name} | ${formatSpread(spread(of('before')), digits)} | ${formatSpread(spread(of('after')), digits)} | ${formatSpread(spread(ratios), 2)} |`,
    );
  }
}
const out = join('bench/results', `intake-sides-${machine().at.replace(/[:.]/g, '-')}`);
writeFileSync(`${out}.md`, `${lines.join('\n')}\n`);
writeFileSync(`${out}.json`, `${JSON.stringify(runs, null, 2)}\n`);
console.log(lines.join('\n'));
log(`wrote ${out}.md`);
