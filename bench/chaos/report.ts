import type { Table } from '../lib/report.ts';
import type { ChaosRow, DriveOptions } from './drive.ts';
import { PGBOSS_CHAOS, RELAY_CHAOS_ENV, SEND_TIMEOUT_MS } from './systems.ts';

export interface ChaosParameters extends DriveOptions {
  seed: number;
  kills: number[];
  restarts: number[];
  downMs: number;
  backlogMs: number;
  versions: Record<string, string>;
  /** One-minute load average of the machine when the run began and ended (it is shared). */
  loadAverage: { before: number; after: number };
}

const TITLES: Record<string, string> = {
  smtp: 'SMTP faults: 421 storm, 451 storm, stalled server',
  sigkill: 'SIGKILL of the sending process at random moments',
  restart: 'Store restart under load: PostgreSQL (Relay, pg-boss), Redis (BullMQ)',
  'restart-backlog': 'Store restart with a backlog of retries (451s for 5 s before each restart)',
};

const HEAD = [
  'system',
  'accepted',
  'delivered',
  'duplicated',
  'not delivered, escalated',
  'not delivered, still queued',
  'lost',
  'stuck without escalation',
  'escalations opened (Relay)',
  'POSTs retried',
  'crashes',
];

function duplicated(r: ChaosRow): string {
  if (r.duplicated === 0) return '0';
  const parts = [`${r.duplicatedSameMessageId} same Message-ID`];
  if (r.duplicatedDifferentMessageIds > 0) parts.push(`${r.duplicatedDifferentMessageIds} as two messages`);
  return `${r.duplicated} (${parts.join(', ')})`;
}

function lost(r: ChaosRow): string {
  if (r.lost === 0) return '0';
  const parts = [];
  if (r.failed > 0) parts.push(`${r.failed} failed`);
  if (r.gone > 0) parts.push(`${r.gone} vanished`);
  return `**${r.lost}** (${parts.join(', ')})`;
}

function cells(r: ChaosRow): (string | number)[] {
  if (r.error)
    return [r.system, `did not run: ${r.error.replace(/\|/g, '/')}`, ...HEAD.slice(2).map(() => '')];
  const relay = r.system.startsWith('Relay');
  return [
    r.system,
    r.notAccepted > 0 ? `${r.accepted} (${r.notAccepted} never accepted)` : r.accepted,
    r.delivered,
    duplicated(r),
    relay ? r.escalated : '— (no escalation)',
    r.pending,
    lost(r),
    r.stuckWithoutEscalation > 0 ? `**${r.stuckWithoutEscalation}**` : 0,
    relay ? r.everEscalated : '—',
    r.retriedPosts,
    r.crashes,
  ];
}

const list = (xs: number[]) => xs.join(', ');

function faultText(scenario: string, rows: ChaosRow[], p: ChaosParameters): string {
  if (scenario === 'smtp')
    return '421 to half the messages for 3 s, then 451 to all for 3 s, then no answer at all for 3 s';
  const back = rows
    .filter((r) => !r.error)
    .map((r) => `${r.system} ${list(r.faults.backAfter)} s`)
    .join('; ');
  if (scenario === 'sigkill')
    return (
      `SIGKILL at ${list(p.kills)} s into the load (drawn from seed ${p.seed}; the same moments for every system), ` +
      `started again at once; answering HTTP again after: ${back}`
    );
  const backlog =
    scenario === 'restart-backlog'
      ? `the SMTP server answered 451 to everything for ${p.backlogMs / 1000} s before each restart and until the store was back; `
      : '';
  return (
    `${backlog}the store stopped at ${list(p.restarts)} s into the load (seed ${p.seed + 1}; the same for every system) and ` +
    `started ${p.downMs / 1000} s later; stopped and started again within: ${back}`
  );
}

function note(scenario: string, rows: ChaosRow[], p: ChaosParameters): string {
  const load = `${p.rate} referrals/s for ${p.seconds} s (${p.rate * p.seconds})`;
  const unsettled = rows.filter((r) => !r.settled && !r.error).map((r) => r.system);
  const settledNote =
    unsettled.length > 0
      ? ` Not settled within the window (counted as they stood): ${unsettled.join(', ')}.`
      : ' Every system settled within the window.';
  return (
    `${load}; ${faultText(scenario, rows, p)}. Counted once everything had arrived and nothing was pending, ` +
    `or ${p.windowMs / 1000} s after the load.${settledNote}`
  );
}

export function chaosTables(rows: ChaosRow[], p: ChaosParameters): Table[] {
  const tables: Table[] = [];
  for (const scenario of Object.keys(TITLES)) {
    const mine = rows.filter((r) => r.scenario === scenario);
    if (mine.length > 0)
      tables.push({
        title: TITLES[scenario] as string,
        note: note(scenario, mine, p),
        head: HEAD,
        rows: mine.map(cells),
      });
  }
  const relayEnv = Object.entries(RELAY_CHAOS_ENV)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  tables.push({
    title: 'How it was run',
    note:
      `Every system runs as a child process: \`relay start\` (bin/relay.js), or bench/lib/peer.main.ts (the peer's ` +
      `enqueue endpoint and worker in one process), restarted by the harness if it exits by itself (column "crashes"). ` +
      `The SMTP sink answers each message after ${p.smtpAnswerMs} ms; ${SEND_TIMEOUT_MS} ms SMTP time-outs everywhere. ` +
      `Relay: ${relayEnv} (shortened so the run fits in minutes; retry back-off is production's, 30 s base). ` +
      `pg-boss: expireInSeconds=${PGBOSS_CHAOS.expireInSeconds}, maintenanceIntervalSeconds=${PGBOSS_CHAOS.maintenanceIntervalSeconds} ` +
      `(shortened like Relay's lease; defaults 15 min and 120 s). BullMQ: its defaults (30 s lock, stalled check every 30 s, ` +
      `a job that stalls twice fails). The load generator sends each referral until it gets a 2xx, again after a refused ` +
      `connection, a dropped request, a 10 s time-out or a 5xx, with the same body; only a 2xx counts as accepted. ` +
      `Relay's repeat answers 200 with the same referral; the peers have no idempotency, so a POST whose answer was ` +
      `lost and was sent again makes a second job. Lost = accepted, not delivered, no escalation, and nothing left that ` +
      `will try again (a failed job, or no trace of it). Stuck without escalation = not delivered and no open escalation ` +
      `(still queued + lost); the peers have no escalation at all. ` +
      `Versions: ${Object.entries(p.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}. Load average (1 min) ${p.loadAverage.before} at the start, ${p.loadAverage.after} at the end.`,
    head: ['store', 'where'],
    rows: [
      [
        'PostgreSQL',
        'a private server (initdb, pg_ctl) on a free port; restart = `pg_ctl stop -m fast`, then start',
      ],
      [
        'Redis',
        'a private redis-server on a free port, `--save ""`; restart = SIGTERM (clean shutdown), then start',
      ],
    ],
  });
  return tables;
}
