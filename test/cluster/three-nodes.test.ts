import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { eventually, freePort, runRelay, startRelay, type RelayProcess } from '../helpers/process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { findPostgresBinaries, startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';
import { streamReferral, submitStream, type StreamStats } from './referral-stream.ts';

const REFERRALS = 60;
const KILL_AT = 8;
/** The restart is requested here, and waits until the dead node's leases are taken over. */
const RESTART_AT = 30;
/** Referrals from here on are sent only once PostgreSQL is down. */
const HELD_FROM = 50;
const INTERVAL_MS = 500;
/** A sweep starts within one interval on some live node; the rest is slack for a loaded machine. */
const GRACE_MS = 5 * INTERVAL_MS;
/** After PostgreSQL is back, pools reconnect and back-offs run out before work resumes. */
const RECOVERY_MS = 1500;

const BINDIR = findPostgresBinaries();
// Where PostgreSQL is expected (CI) a missing server binary fails the test in its before hook, never skips it.
const SKIP = process.env.TEST_DATABASE_URL
  ? false
  : 'needs PostgreSQL: set TEST_DATABASE_URL (CI does) to run the three-node test';

interface Probe {
  status: number;
  retryAfter: string | null;
}

interface Outage {
  downAt: number;
  upAt: number;
  /** The stream index last submitted when PostgreSQL went down. */
  during: number;
  probe: Probe | undefined;
}

interface DeliveryRow {
  id: string;
  referral_id: string | null;
  team_id: string;
  purpose: string;
  state: string;
  message_id: string;
  send_by: string;
  sent_at: string | null;
}

/** How long a delivery stayed unsent past its deadline while the database was up. */
function overdueWhileUp(d: DeliveryRow, outage: { downAt: number; upAt: number }, now: number): number {
  const from = new Date(d.send_by).getTime();
  const to = d.sent_at ? new Date(d.sent_at).getTime() : now;
  if (to <= from) return 0;
  const overlap = Math.max(0, Math.min(to, outage.upAt + RECOVERY_MS) - Math.max(from, outage.downAt));
  return to - from - overlap;
}

describe('three relay nodes on one PostgreSQL, one killed and the database restarted', { skip: SKIP }, () => {
  let server: PrivatePostgres | undefined;
  let smtp: TestSmtpServer;
  let db: Db;
  let env: Record<string, string>;
  const nodes: RelayProcess[] = [];
  const ports: number[] = [];

  before(async () => {
    if (!BINDIR) throw new Error('PostgreSQL server binaries not found: install them or set PG_BINDIR');
    server = await startPrivatePostgres(BINDIR);
    smtp = await startTestSmtpServer();
    // Each message is held before its 250, so the kill and the restart land while sends are in flight.
    smtp.setDelay(250);
    env = {
      DATABASE_URL: server.url,
      SMTP_URL: smtp.url,
      DELIVERY_LEASE: '5s',
      DISPATCH_POLL: '1s',
      DISPATCH_CONCURRENCY: '4',
      SEND_TIMEOUT: '5s',
      WATCHDOG_INTERVAL_MS: String(INTERVAL_MS),
      // Short enough that the dead node's claims and the outage make deliveries overdue.
      SEND_BY: '1s',
      TEST_ALERT_INTERVAL: 'off',
    };
    assert.equal(runRelay(['directory', 'import', '--demo'], env).status, 0);
    db = openDatabase(server.url);
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    // Started together, so their migrations meet Kysely's migration lock too.
    for (const port of ports) nodes.push(startRelay({ ...env, PORT: String(port) }));
    await Promise.all(nodes.map((node) => node.waitForOutput(/is running/)));
  });
  after(async () => {
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await smtp?.close();
    await db?.close();
    await server?.destroy();
  });

  const deliveries = () =>
    db.kysely
      .selectFrom('deliveries')
      .select(['id', 'referral_id', 'team_id', 'purpose', 'state', 'message_id', 'send_by', 'sent_at'])
      .execute() as Promise<DeliveryRow[]>;

  const leasesHeldBy = async (node: RelayProcess) =>
    (
      await sql<{ n: number }>`select count(*) as n from deliveries
        where state = 'sending' and locked_by like ${`${node.child.pid}-%`}`.execute(db.kysely)
    ).rows[0]?.n ?? 0;

  /**
   * SIGKILLs the node while it holds a lease on a delivery, so its work must be taken over. The node
   * is frozen (SIGSTOP) while its leases are counted, so it cannot finish the send in between: the
   * kill lands with the leases counted. A node that never holds one fails the test, since a kill
   * between sends would prove nothing about taking work over.
   */
  async function killWhileSending(victim: RelayProcess): Promise<number> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      victim.child.kill('SIGSTOP');
      const leases = await leasesHeldBy(victim);
      if (leases > 0) {
        victim.child.kill('SIGKILL');
        await victim.exited;
        return leases;
      }
      victim.child.kill('SIGCONT');
      if (Date.now() > deadline)
        throw new Error('the victim never held a lease: it was not killed while sending');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** While PostgreSQL is down, intake answers 503 with Retry-After (and, below, wrote nothing). */
  async function probeWhileDown(base: string, key: string): Promise<Probe> {
    const response = await fetch(`${base}/api/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(streamReferral(-1)),
    });
    await response.body?.cancel();
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  }

  /** Submits the stream with a node killed and, once its leases are taken over, PostgreSQL restarted. */
  async function streamWithFaults(key: string) {
    const bases = ports.map((port) => `http://127.0.0.1:${port}`);
    const victim = nodes[1] as RelayProcess;
    const stats: StreamStats = { statuses: {}, unavailableWithoutRetryAfter: 0, movedOn: 0 };
    let latest = 0;
    let killed: Promise<number> | undefined;
    let restarted: Promise<Outage> | undefined;
    // The last referrals wait until PostgreSQL is down, so the outage is mid-stream however long the
    // dead node's leases take to be taken over (the stream once ended first, and CI failed).
    let down!: () => void;
    const outageBegun = new Promise<void>((resolve) => (down = resolve));
    const restart = async (): Promise<Outage> => {
      await killed;
      // Kept apart, so the delays the kill causes are not hidden inside the outage.
      await eventually(async () => (await leasesHeldBy(victim)) === 0, "the dead node's leases taken over");
      const during = latest;
      let probe: Probe | undefined;
      const times = await (server as PrivatePostgres).restart(2000, async () => {
        down();
        probe = await probeWhileDown(bases[0] as string, key);
      });
      return { ...times, during, probe };
    };
    const accepted = await submitStream(
      {
        ...{ nodes: bases, key, count: REFERRALS, lanes: 4, pauseMs: 500 },
        onSubmit: (n) => {
          latest = n;
          if (n === KILL_AT) killed = killWhileSending(victim);
          // A failed fault lets the stream go on, and fails the test below rather than hanging it.
          if (n === RESTART_AT) restarted = restart().finally(down);
        },
        gate: (n) => (n >= HELD_FROM ? outageBegun : undefined),
      },
      stats,
    );
    const [leasesLost, outage] = await Promise.all([killed, restarted]);
    assert.ok(leasesLost !== undefined && outage, 'both faults were injected');
    assert.ok(leasesLost > 0, `the node was killed while sending (it held ${leasesLost} leases)`);
    assert.ok(
      outage.during < REFERRALS - 1,
      `PostgreSQL restarted mid-stream (at referral ${outage.during})`,
    );
    return { accepted, stats, leasesLost, outage, victim };
  }

  it('delivers every accepted referral, with one Message-ID per delivery, nothing left sending, one escalation per overdue item', async (t) => {
    const created = runRelay(
      ['apikey', 'create', '--name', 'cluster', '--scope', 'referrals:write', '--system', 'cluster-epcr'],
      env,
    );
    assert.equal(created.status, 0, created.stderr);
    const { accepted, stats, leasesLost, outage, victim } = await streamWithFaults(created.stdout.trim());

    await eventually(
      async () => (await deliveries()).every((d) => d.state === 'sent' || d.state === 'acknowledged'),
      'every delivery sent',
      60_000,
    );
    const survivors = nodes.filter((node) => node !== victim);
    for (const node of survivors) node.child.kill('SIGTERM');
    const exits = await Promise.all(survivors.map((node) => node.exited));
    assert.deepEqual(exits, [0, 0], 'survivors drain and exit 0');

    assert.equal(outage.probe?.status, 503, 'intake answered 503 while PostgreSQL was down');
    assert.ok(Number(outage.probe.retryAfter) > 0, 'with a Retry-After');
    assert.equal(stats.unavailableWithoutRetryAfter, 0, 'every 503 carried Retry-After');
    await checkReferrals(db, accepted);
    const rows = await deliveries();
    const report = checkDeliveries(accepted, rows, smtp);
    const escalations = await checkEscalations(db, rows, outage);
    t.diagnostic(
      `accepted ${new Set(accepted).size}/${REFERRALS}; answers ${JSON.stringify(stats.statuses)}; ` +
        `requests moved to another node ${stats.movedOn}; leases held by the killed node ${leasesLost}; ` +
        `PostgreSQL down ${outage.upAt - outage.downAt} ms from referral ${outage.during}; ` +
        `messages ${smtp.received.length} for ${rows.length} deliveries (${report.duplicates} duplicates, same Message-ID); ` +
        `not-sent escalations ${escalations.notSent}, of which required ${escalations.required}, ` +
        `sent on time but recorded after the deadline ${escalations.recordedLate}`,
    );
  });
});

/** Every referral on disk is whole (it has its deliveries) and is one the client saw accepted. */
async function checkReferrals(db: Db, accepted: string[]) {
  const rows = await db.kysely
    .selectFrom('referrals')
    .select([
      'id',
      (eb) =>
        eb
          .selectFrom('deliveries')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('deliveries.referral_id', '=', 'referrals.id')
          .as('deliveries'),
    ])
    .execute();
  assert.deepEqual(
    rows.map((r) => r.id).sort(),
    [...new Set(accepted)].sort(),
    'exactly the accepted referrals are on disk',
  );
  for (const r of rows) assert.ok(Number(r.deliveries) > 0, `referral ${r.id} has its deliveries`);
}

function checkDeliveries(accepted: string[], rows: DeliveryRow[], smtp: TestSmtpServer) {
  assert.equal(rows.filter((d) => d.state === 'sending').length, 0, 'nothing left sending');
  const reached = new Set(smtp.received.map((m) => m.parsed.headers.get('x-relay-referral')));
  for (const id of new Set(accepted)) {
    assert.ok(reached.has(id), `accepted referral ${id} reached the mail server`);
    assert.ok(
      rows.some((d) => d.referral_id === id),
      `accepted referral ${id} has its deliveries`,
    );
  }
  const ids = new Map<string, Set<string>>();
  for (const message of smtp.received) {
    const delivery = String(message.parsed.headers.get('x-relay-delivery'));
    ids.set(delivery, (ids.get(delivery) ?? new Set()).add(String(message.parsed.messageId)));
  }
  for (const row of rows)
    assert.deepEqual([...(ids.get(row.id) ?? [])], [row.message_id], `one Message-ID for ${row.id}`);
  return { duplicates: smtp.received.length - ids.size };
}

async function checkEscalations(db: Db, rows: DeliveryRow[], outage: { downAt: number; upAt: number }) {
  const escalations = await db.kysely
    .selectFrom('escalations')
    .select(['referral_id', 'team_id', 'reason', 'opened_at'])
    .execute();
  const counts = new Map<string, number>();
  for (const e of escalations) {
    const key = `${e.referral_id}|${e.team_id}|${e.reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) assert.equal(n, 1, `one escalation for ${key}`);
  const referralDeliveries = rows.filter((d) => d.purpose === 'referral');
  const deliveryOf = (e: { referral_id: string | null; team_id: string | null }) =>
    referralDeliveries.find((d) => d.referral_id === e.referral_id && d.team_id === e.team_id);
  const notSent = escalations.filter((e) => e.reason === 'not-sent');
  let recordedLate = 0;
  for (const e of notSent) {
    const d = deliveryOf(e);
    assert.ok(
      d && e.opened_at > d.send_by,
      `not-sent escalation for ${e.referral_id} opened after its deadline`,
    );
    // The mail server may take a message just before the deadline while the row still says `sending`
    // (its commit queued behind others): the watchdog rightly goes by what is on disk.
    if (d.sent_at && d.sent_at <= d.send_by) recordedLate += 1;
  }
  const escalated = new Set(notSent.map((e) => `${e.referral_id}|${e.team_id}`));
  const now = Date.now();
  const required = referralDeliveries.filter((d) => overdueWhileUp(d, outage, now) > GRACE_MS);
  for (const d of required) {
    assert.ok(
      escalated.has(`${d.referral_id}|${d.team_id}`),
      `delivery ${d.id} overdue while the cluster could see it is escalated`,
    );
  }
  assert.ok(
    required.length > 0,
    'the dead node left deliveries overdue, so the escalation check is not vacuous',
  );
  return { notSent: notSent.length, required: required.length, recordedLate };
}
