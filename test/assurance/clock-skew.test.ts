import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { recordSweepCompleted } from '../../src/assurance/sweep-status.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { realNow } from '../helpers/clock.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

interface ReadyBody {
  components: { clock?: { skewMs: number; maxSkewMs: number; stale: boolean } };
  reasons: string[];
}

describeEachDialect("a node's clock against the database's, MAX_CLOCK_SKEW", (dialect) => {
  let relay: TestRelay;
  const logged: string[] = [];
  const logger = {
    info: (_: object, msg: string) => logged.push(msg),
    error: (_: object, msg: string) => logged.push(msg),
  };
  const readiness = async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/readyz' });
    return { status: response.statusCode, body: response.json() as ReadyBody };
  };
  /** Sets this node's clock `offsetMs` from the true time and records a live cluster on it. */
  const clockOff = async (offsetMs: number) => {
    relay.clock.set(new Date(realNow() + offsetMs).toISOString());
    await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
    await recordHeartbeat(relay.ctx, 'watchdog', 'node-a');
    await recordSweepCompleted(relay.ctx.db.kysely, relay.clock, 'node-a', 0);
  };
  const skewEscalations = () =>
    relay.ctx.db.kysely
      .selectFrom('escalations')
      .select(['state', 'detail', 'resolved_by'])
      .where('reason', '=', 'clock-skew')
      .orderBy('opened_at')
      .execute();

  before(async () => {
    relay = await createTestRelay(dialect, { env: { MAX_CLOCK_SKEW: '30s' } });
  });
  after(async () => relay.close());

  if (dialect === 'postgres') {
    it('a clock set back 3 h makes the node unready and opens one clock-skew escalation', async () => {
      await clockOff(-3 * HOUR);
      const { status, body } = await readiness();
      assert.equal(status, 503);
      assert.equal(body.components.clock?.stale, true);
      assert.ok(Math.abs((body.components.clock?.skewMs ?? 0) + 3 * HOUR) < 5000);
      assert.deepEqual(body.reasons, [
        "clock: this node's clock is 10800 s behind the database server's (MAX_CLOCK_SKEW is 30 s)",
      ]);

      const watchdog = new Watchdog(relay.ctx, logger);
      await watchdog.runOnce();
      await watchdog.runOnce();
      await watchdog.stop();
      const open = await skewEscalations();
      assert.equal(open.length, 1, 'one escalation for the episode, however many sweeps see it');
      assert.equal(open[0]?.state, 'open');
      const detail = JSON.parse(open[0]?.detail ?? '{}') as { node?: string; skewMs?: number };
      assert.equal(typeof detail.node, 'string');
      assert.ok(Math.abs((detail.skewMs ?? 0) + 3 * HOUR) < 5000);
      assert.equal(logged.filter((m) => /clock disagrees/.test(m)).length, 1, 'logged once, not every sweep');
    });

    it('Relay resolves it once the clock is right, and a later episode opens a new one', async () => {
      await clockOff(0);
      const watchdog = new Watchdog(relay.ctx, logger);
      await watchdog.runOnce();
      let rows = await skewEscalations();
      assert.deepEqual(
        rows.map((r) => [r.state, r.resolved_by]),
        [['resolved', 'Relay']],
      );
      assert.equal((await readiness()).status, 200);

      relay.clock.set(new Date(realNow() + 5 * MINUTE).toISOString());
      await watchdog.runOnce();
      await watchdog.stop();
      rows = await skewEscalations();
      assert.deepEqual(
        rows.map((r) => r.state),
        ['resolved', 'open'],
        'a clock 5 minutes fast is a new episode',
      );
      await clockOff(0);
      await new Watchdog(relay.ctx, logger).runOnce();
    });
  } else {
    it('is never compared on SQLite, which runs on this process’s clock', async () => {
      await clockOff(-3 * HOUR);
      const { status, body } = await readiness();
      assert.equal(status, 200, JSON.stringify(body.reasons));
      assert.equal(body.components.clock, undefined);
      const watchdog = new Watchdog(relay.ctx, logger);
      await watchdog.runOnce();
      await watchdog.stop();
      assert.deepEqual(await skewEscalations(), []);
    });
  }

  it('intake accepts an occurredAt up to 10 minutes ahead of its clock, and refuses one further ahead', async () => {
    await clockOff(0);
    const raise = (reference: string, aheadMs: number) => {
      const body = dudleyReferral(reference);
      const occurredAt = new Date(relay.clock.now().getTime() + aheadMs).toISOString();
      return relay.app.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: { ...body, incident: { ...body.incident, occurredAt } },
      });
    };
    const ahead = await raise('AHEAD-9', 9 * MINUTE);
    assert.equal(ahead.statusCode, 201, ahead.body);
    const tooFar = await raise('AHEAD-11', 11 * MINUTE);
    assert.equal(tooFar.statusCode, 422);
    assert.deepEqual(
      (tooFar.json() as { errors: { path: string }[] }).errors.map((e) => e.path),
      ['incident.occurredAt'],
    );
  });
});
