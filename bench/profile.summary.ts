/**
 * Sums the self time of `.cpuprofile` files (node --cpu-prof, one per thread) by where the code
 * lives, so a profile reads as "SQLite 20 %, MIME 15 %" rather than a flame graph:
 *
 *   node --import tsx bench/profile.summary.ts /tmp/dispatch-prof
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The first rule whose pattern matches the frame's URL or name names its part; order matters. */
const PARTS: [string, RegExp][] = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  // better-sqlite3 runs natively inside the driver's call (and inside the profiling script's counter).
  [
    'SQLite statements and commits (better-sqlite3)',
    /better-sqlite3|sqlite-driver\.js|dispatch\.profile\.ts/,
  ],
  ['PostgreSQL client (pg)', /node_modules\/(pg|pg-protocol|pg-pool)\//],
  ['Kysely (building and compiling queries)', /node_modules\/kysely\//],
  [
    'MIME (nodemailer mail-composer, mime-node, qp, base64)',
    /nodemailer\/lib\/(mail-composer|mime-node|mime-funcs|qp|base64|addressparser|libmime)/,
  ],
  ['SMTP (nodemailer smtp-connection, pool)', /nodemailer\/lib\/(smtp|shared)/],
  ['other nodemailer', /nodemailer/],
  ['email text and HTML (src/delivery/messages)', /(src|dist)\/delivery\/messages\//],
  ['dispatcher, sender, outcome recording (src/delivery)', /(src|dist)\/delivery\//],
  ['records, audit, status (src/records)', /(src|dist)\/records\//],
  ['referral payload (decrypt, src/referrals)', /(src|dist)\/referrals\//],
  ['other Relay code (src, or dist/ when relay start runs a current build)', /\/(src|dist)\//],
  [
    'thread messages (structured clone)',
    /^(postMessage|onmessage|emitMessage)$|worker_threads|internal\/worker|messageport/i,
  ],
  ['tsx loader', /node_modules\/(tsx|esbuild)\//],
  ['Node internals (streams, net, timers, crypto)', /^node:|^internal\//],
  ['native and V8 (program, regexp, JSON)', /^$/],
];

function partOf(frame: ProfileNode['callFrame']): string {
  const where = frame.url || frame.functionName;
  for (const [name, pattern] of PARTS)
    if (pattern.test(frame.url) || pattern.test(frame.functionName)) return name;
  return where ? 'other' : 'native and V8 (program, regexp, JSON)';
}

/** The dispatch's window (dispatch.profile.ts writes it), or everything. */
type Window = { from: number; to: number };

function summarise(
  file: string,
  window?: Window,
): { total: number; byPart: Map<string, number>; top: Map<string, number> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPart = new Map<string, number>();
  const top = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const micros = profile.timeDeltas[i] ?? 0;
    at += micros;
    if (!node || (window && (at < window.from || at > window.to))) return;
    const part = partOf(node.callFrame);
    byPart.set(part, (byPart.get(part) ?? 0) + micros);
    if (part === 'idle') return;
    total += micros;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}`;
    top.set(name, (top.get(name) ?? 0) + micros);
  });
  return { total, byPart, top };
}

const dir = process.argv[2] ?? '.';
const windowFile = join(dir, 'window.json');
const window = existsSync(windowFile) ? (JSON.parse(readFileSync(windowFile, 'utf8')) as Window) : undefined;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const { total, byPart, top } = summarise(join(dir, file), window);
  if (total === 0) continue;
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms on CPU (idle excluded)`);
  for (const [part, micros] of [...byPart].sort((a, b) => b[1] - a[1])) {
    if (part === 'idle') continue;
    console.log(`  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${part}`);
  }
  console.log('  top functions (self time):');
  for (const [name, micros] of [...top].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`);
}
