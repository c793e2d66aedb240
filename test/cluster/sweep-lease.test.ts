import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { NamedSweepJob } from '../../src/assurance/watchdog.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { LeaseLost, SweepLease, sweepLeaseHolder } from '../../src/cluster/sweep-lease.ts';
import { createContext, type RelayContext } from '../../src/context.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { eventually } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

/** Short, so that on PostgreSQL (whose clock the lease runs on) a lease runs out in under a second. */
const INTERVAL_MS = 200;
const TTL_MS = 2 * INTERVAL_MS;

/** A job that records that its node swept, and can be held to keep that node mid-sweep ("frozen"). */
class Probe {
  runs = 0;
  inside = false;
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;
  /** What the job tries once the gate opens, through the database the watchdog handed it. */
  afterGate: ((ctx: RelayContext) => Promise<unknown>) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  job(name: string): NamedSweepJob {
    return {
      name,
      run: async (ctx) => {
        this.runs += 1;
        this.inside = true;
        await this.gate;
        this.inside = false;
        this.gate = undefined;
        await this.afterGate?.(ctx);
      },
    };
  }
}

describeEachDialect('the sweep lease', (dialect) => {
  let relay: TestRelay;
  let otherDb: Db;
  let other: RelayContext;
  const infos: string[] = [];
  const errors: object[] = [];
  const logger = {
    info: (_: object, msg: string) => void infos.push(msg),
    error: (o: object) => void errors.push(o),
  };

  before(async () => {
    relay = await createTestRelay(dialect, { env: { WATCHDOG_INTERVAL_MS: String(INTERVAL_MS) } });
    // A second node: the same database through a connection of its own, as another process has.
    otherDb = openDatabase(relay.database.url, { pgSchema: relay.database.pgSchema });
    other = createContext(relay.ctx.config, otherDb, relay.clock);
  });
  after(async () => {
    await otherDb.close();
    await relay.close();
  });

  const holder = () => sweepLeaseHolder(relay.ctx.db.kysely, relay.clock);

  /** Lets the lease run out: on SQLite by Relay's clock, on PostgreSQL by the server's. */
  async function letLeaseExpire() {
    if (dialect === 'sqlite') {
      relay.clock.advance(TTL_MS + 1);
      return;
    }
    await eventually(async () => {
      const h = await holder();
      return h !== undefined && h.expiresMs <= h.nowMs;
    }, 'the lease runs out');
  }

  it('lets one node sweep at a time; the other still beats, and takes over once the holder stops renewing', async () => {
    const a = new Probe();
    const b = new Probe();
    const nodeA = new Watchdog(relay.ctx, logger, [a.job('a')]);
    const nodeB = new Watchdog(other, logger, [b.job('b')]);
    await nodeA.runOnce();
    const held = await holder();
    assert.equal(held?.holder, nodeA.node);
    assert.ok(held.expiresMs - held.nowMs <= TTL_MS, 'it expires within two intervals of its renewal');

    await nodeB.runOnce();
    assert.deepEqual([a.runs, b.runs], [1, 0], 'node b did not sweep while a held the lease');
    const beats = await relay.ctx.db.kysely
      .selectFrom('heartbeats')
      .select('node')
      .where('component', '=', 'watchdog')
      .execute();
    assert.deepEqual(beats.map((r) => r.node).sort(), [nodeA.node, nodeB.node].sort(), 'both beat');

    await letLeaseExpire();
    await nodeB.runOnce();
    assert.equal(b.runs, 1, 'node b took over');
    assert.equal((await holder())?.holder, nodeB.node);
    await nodeA.runOnce();
    assert.equal(a.runs, 1, 'and keeps it while it renews: a does not sweep');

    await nodeB.stop();
    await nodeA.runOnce();
    assert.equal(a.runs, 2, 'a clean stop gives the lease up at once');
    await nodeA.stop();
    assert.deepEqual(errors, []);
  });

  it('a holder that wakes after losing the lease finds out before it writes more', async () => {
    const a = new Probe();
    const b = new Probe();
    const nodeA = new Watchdog(relay.ctx, logger, [a.job('a')]);
    const nodeB = new Watchdog(other, logger, [b.job('b')]);
    a.hold();
    a.afterGate = (ctx) =>
      ctx.db.kysely
        .insertInto('scheduled_runs')
        .values({ job: 'woken', period: 'a', ran_at: relay.clock.now().toISOString(), detail: '{}' })
        .execute();
    const sweeping = nodeA.runOnce();
    await eventually(async () => a.inside, 'node a is mid-sweep');

    // Node a is "frozen": it renews nothing while the lease runs out and node b takes over.
    await letLeaseExpire();
    await nodeB.runOnce();
    assert.equal(b.runs, 1, 'node b swept while a was frozen');

    a.release();
    await sweeping;
    const woken = await relay.ctx.db.kysely
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', 'woken')
      .execute();
    assert.deepEqual(woken, [], 'node a wrote nothing after waking');
    assert.ok(
      infos.some((m) => /lost the sweep lease/.test(m)),
      'and said why it stopped',
    );
    assert.deepEqual(errors, [], 'losing the lease is not a failed sweep');
    await nodeB.stop();
    await nodeA.stop();
  });

  it("refuses a lapsed holder's write in the database itself, whatever its own clock says", async () => {
    const interval = relay.ctx.config.watchdogIntervalMs;
    const leaseA = new SweepLease(relay.ctx.db, relay.clock, 'node-a', 2 * interval);
    const leaseB = new SweepLease(otherDb, relay.clock, 'node-b', 2 * interval);
    assert.equal(await leaseA.acquire(), true);
    assert.equal(await leaseB.acquire(), false);
    await letLeaseExpire();
    assert.equal(await leaseB.acquire(), true);
    const insert = (lease: SweepLease, period: string) =>
      lease.write((trx) =>
        trx
          .insertInto('scheduled_runs')
          .values({ job: 'fenced', period, ran_at: relay.clock.now().toISOString(), detail: '{}' })
          .execute(),
      );
    await assert.rejects(insert(leaseA, 'a'), LeaseLost);
    await insert(leaseB, 'b');
    const rows = await relay.ctx.db.kysely
      .selectFrom('scheduled_runs')
      .select('period')
      .where('job', '=', 'fenced')
      .execute();
    assert.deepEqual(rows, [{ period: 'b' }], "only the holder's write committed");
    await leaseB.release();
  });
});
