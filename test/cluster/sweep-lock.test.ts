import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { SweepJob } from '../../src/assurance/watchdog.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { sweepLockHolders } from '../../src/cluster/sweep-lock.ts';
import { createContext, type RelayContext } from '../../src/context.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { eventually } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const INTERVAL_MS = 200;
const SKIP = process.env.TEST_DATABASE_URL
  ? false
  : 'the sweep lock is PostgreSQL-only: set TEST_DATABASE_URL (CI does) to run it';

interface Sweep {
  node: string;
  start: number;
  end: number;
}

/** A job that records each sweep it is part of, and can be held open to keep its node mid-sweep. */
class RecordingJob {
  readonly sweeps: Sweep[] = [];
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;
  inside = false;

  constructor(
    private readonly node: string,
    private readonly durationMs = 0,
  ) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.open();
  }

  readonly job: SweepJob = async () => {
    const start = performance.now();
    this.inside = true;
    await (this.gate ?? new Promise((resolve) => setTimeout(resolve, this.durationMs)));
    this.inside = false;
    this.sweeps.push({ node: this.node, start, end: performance.now() });
  };
}

const errors: unknown[] = [];
const logger = { info: () => undefined, error: (obj: object) => errors.push(obj) };

describe('the watchdog sweep lock [postgres]', { skip: SKIP }, () => {
  let relay: TestRelay;
  let other: Db;
  let otherCtx: RelayContext;

  before(async () => {
    relay = await createTestRelay('postgres', { env: { WATCHDOG_INTERVAL_MS: String(INTERVAL_MS) } });
    // A second node: the same schema through its own pool, as another process would have.
    other = openDatabase(relay.database.url, { pgSchema: relay.database.pgSchema as string });
    otherCtx = createContext(relay.ctx.config, other, relay.clock);
  });
  after(async () => {
    await other.close();
    await relay.close();
  });

  const beats = async () =>
    (
      await relay.ctx.db.kysely
        .selectFrom('heartbeats')
        .select('node')
        .where('component', '=', 'watchdog')
        .execute()
    )
      .map((r) => r.node)
      .sort();

  it('lets one node sweep at a time; the other skips its sweep but still beats', async () => {
    const a = new RecordingJob('a');
    const b = new RecordingJob('b');
    const nodeA = new Watchdog(relay.ctx, logger, [{ name: 'a', run: a.job }]);
    const nodeB = new Watchdog(otherCtx, logger, [{ name: 'b', run: b.job }]);
    a.hold();
    const running = nodeA.runOnce();
    await eventually(async () => a.inside, 'node a is mid-sweep');
    assert.equal((await sweepLockHolders(relay.ctx.db)).length, 1, 'node a holds the lock');

    await nodeB.runOnce();
    assert.equal(b.sweeps.length + Number(b.inside), 0, 'node b did not sweep while a held the lock');
    assert.deepEqual(await beats(), [nodeB.node], 'node b beat all the same');

    a.release();
    await running;
    assert.equal(a.sweeps.length, 1);
    assert.deepEqual(await sweepLockHolders(relay.ctx.db), [], 'the lock goes with the sweep');
    await nodeB.runOnce();
    assert.equal(b.sweeps.length, 1, 'node b sweeps once the lock is free');
    assert.deepEqual(errors, []);
  });

  it("gives the lock to the next node at once when the holder's connection dies mid-sweep", async () => {
    const a = new RecordingJob('a');
    const b = new RecordingJob('b');
    const nodeA = new Watchdog(relay.ctx, logger, [{ name: 'a', run: a.job }]);
    const nodeB = new Watchdog(otherCtx, logger, [{ name: 'b', run: b.job }]);
    a.hold();
    const running = nodeA.runOnce();
    await eventually(async () => a.inside, 'node a is mid-sweep');
    const [holder] = await sweepLockHolders(relay.ctx.db);
    assert.ok(holder, 'node a holds the lock');

    // What a SIGKILL does to the session: the server ends it, and the lock with it.
    const admin = new pg.Client({ connectionString: relay.database.url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [holder]);
    await admin.end();
    await eventually(async () => (await sweepLockHolders(relay.ctx.db)).length === 0, 'the lock is released');

    await nodeB.runOnce();
    assert.equal(b.sweeps.length, 1, 'node b took over on its next tick');
    a.release();
    await running;
    assert.equal(a.sweeps.length, 1, "node a's sweep still finished (sweeps are idempotent)");
    assert.deepEqual(errors, [], 'losing the lock after the work is done is not a failed sweep');
  });

  it('never overlaps sweeps of running watchdogs, and the other node sweeps within one interval of a stop', async () => {
    const a = new RecordingJob('a', 120);
    const b = new RecordingJob('b', 120);
    const nodeA = new Watchdog(relay.ctx, logger, [{ name: 'a', run: a.job }]);
    const nodeB = new Watchdog(otherCtx, logger, [{ name: 'b', run: b.job }]);
    nodeA.start();
    nodeB.start();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await nodeA.stop();
    const stoppedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
    await nodeB.stop();

    const all = [...a.sweeps, ...b.sweeps].sort((x, y) => x.start - y.start);
    for (let i = 1; i < all.length; i++) {
      const [prev, next] = [all[i - 1] as Sweep, all[i] as Sweep];
      assert.ok(
        next.start >= prev.end,
        `sweeps overlap: ${prev.node} until ${prev.end}, ${next.node} at ${next.start}`,
      );
    }
    assert.ok(a.sweeps.length > 0 && b.sweeps.length > 0, 'both nodes swept at some point');
    // Node b's sweep in progress at the stop, or its first after it: no gap longer than one interval.
    const firstAfter = b.sweeps.find((s) => s.end > stoppedAt);
    assert.ok(firstAfter, 'node b swept after node a stopped');
    assert.ok(
      firstAfter.start - stoppedAt <= INTERVAL_MS + 100,
      `node b swept ${Math.round(firstAfter.start - stoppedAt)} ms after the stop`,
    );
    assert.deepEqual(errors, []);
  });
});
