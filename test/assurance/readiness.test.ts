import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { nodeId, recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { recordSweepCompleted } from '../../src/assurance/sweep-status.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { heartbeatEvery } from '../../src/cli/start.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import type { EmailSender } from '../../src/delivery/channels/channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { createTestDatabase, DIALECTS } from '../helpers/db.ts';
import { parseMetrics, sample } from '../helpers/metrics.ts';
import { createTestRelay, testConfig, type TestRelay } from '../helpers/relay.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** No delivery is due in these tests, so nothing is ever sent. */
const noEmail: EmailSender = { send: () => Promise.reject(new Error('no email is sent in these tests')) };

interface ReadyBody {
  ready: boolean;
  status: string;
  components: {
    database: string;
    dispatcher?: { stale: boolean; ageMs: number | null; lastBeat: string | null };
    watchdog?: { stale: boolean; ageMs: number | null; lastBeat: string | null };
    sweep?: { stale: boolean; ageMs: number | null; lastCompletedAt: string | null };
  };
  reasons: string[];
}

async function probe(app: FastifyInstance) {
  const [ready, health, metrics] = await Promise.all([
    app.inject({ method: 'GET', url: '/readyz' }),
    app.inject({ method: 'GET', url: '/healthz' }),
    app.inject({ method: 'GET', url: '/metrics' }),
  ]);
  assert.equal(health.statusCode, 200, '/healthz answers while the process is alive, whatever else holds');
  assert.equal(metrics.statusCode, 200, '/metrics answers even when Relay is not ready');
  return { status: ready.statusCode, body: ready.json() as ReadyBody, metrics: parseMetrics(metrics.body) };
}

for (const dialect of DIALECTS) {
  describe(`GET /readyz [${dialect}]`, () => {
    let relay: TestRelay;
    let interval: number;
    before(async () => {
      relay = await createTestRelay(dialect);
      interval = relay.ctx.config.watchdogIntervalMs;
    });
    after(async () => relay.close());
    afterEach(() => {
      relay.ctx.lifecycle.draining = false;
    });
    /** What a sweep records when it completes (by the database's clock on PostgreSQL). */
    const sweepCompleted = () => recordSweepCompleted(relay.ctx.db.kysely, relay.clock, 'node-s', 0);

    it('is 503 with both components stale when no heartbeat was ever recorded', async () => {
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 503);
      assert.equal(body.ready, false);
      assert.equal(body.status, 'unavailable');
      assert.equal(body.components.database, 'ok');
      assert.deepEqual(body.components.dispatcher, {
        component: 'dispatcher',
        lastBeat: null,
        ageMs: null,
        stale: true,
      });
      assert.equal(body.components.watchdog?.stale, true);
      assert.equal(sample(metrics, 'relay_ready'), 0);
      assert.equal(sample(metrics, 'relay_heartbeat_age_seconds', { component: 'watchdog' }), -1);
    });

    it('is 200 once the dispatcher and the watchdog have beaten and a sweep has completed', async () => {
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      const { status: before, body: waiting } = await probe(relay.app);
      assert.equal(before, 503, 'no sweep has completed yet');
      assert.deepEqual(waiting.reasons, ['sweep: no completed sweep has been recorded']);
      assert.equal(waiting.components.sweep?.stale, true);
      assert.equal(waiting.components.sweep?.ageMs, null);
      await sweepCompleted();
      relay.clock.advance(20_000);
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 200, JSON.stringify(body.reasons));
      assert.equal(body.status, 'ready');
      assert.deepEqual(body.reasons, []);
      assert.equal(body.components.sweep?.stale, false);
      assert.equal(body.components.dispatcher?.stale, false);
      assert.equal(body.components.dispatcher?.ageMs, 20_000);
      assert.equal(sample(metrics, 'relay_ready'), 1);
      assert.equal(sample(metrics, 'relay_heartbeat_age_seconds', { component: 'dispatcher' }), 20);
    });

    it('is 503 naming the component whose heartbeat is older than three intervals', async () => {
      relay.clock.set('2026-11-25T11:00:00Z');
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      relay.clock.advance(3 * interval);
      await sweepCompleted();
      assert.equal((await probe(relay.app)).status, 200, 'exactly three intervals is still fresh');

      relay.clock.advance(1);
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      await sweepCompleted();
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 503);
      assert.equal(body.status, 'unavailable');
      assert.equal(body.components.dispatcher?.stale, true);
      assert.equal(body.components.dispatcher?.ageMs, 3 * interval + 1);
      assert.equal(body.components.watchdog?.stale, false);
      assert.deepEqual(body.reasons, [
        `dispatcher: the last heartbeat was ${Math.round((3 * interval + 1) / 1000)} s ago (more than three watchdog intervals)`,
      ]);
      assert.equal(sample(metrics, 'relay_ready'), 0);
      assert.equal(
        sample(metrics, 'relay_heartbeat_age_seconds', { component: 'dispatcher' }),
        (3 * interval + 1) / 1000,
      );

      // Any node's heartbeat counts: the cluster is ready when some dispatcher is alive.
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-c');
      assert.equal((await probe(relay.app)).status, 200);
    });

    /** Moves the last completed sweep `ms` into the past (negative: into the future). */
    const sweepAged = (ms: number) =>
      relay.ctx.db.kysely
        .updateTable('sweep_status')
        .set((eb) => ({ completed_ms: eb('completed_ms', '-', ms) }))
        .where('name', '=', 'sweep')
        .execute();

    it('is 503 on every node when the last completed sweep is older than three intervals', async () => {
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      await sweepCompleted();
      await sweepAged(3 * interval + 2000);
      // A second node on the same database: it reads the same row, whoever swept.
      const other = buildApp(createContext(testConfig(), relay.database.db, relay.clock));
      await other.ready();
      try {
        for (const app of [relay.app, other]) {
          const { status, body, metrics } = await probe(app);
          assert.equal(status, 503);
          assert.equal(body.components.sweep?.stale, true);
          assert.ok((body.components.sweep?.ageMs ?? 0) >= 3 * interval + 2000);
          assert.equal(body.reasons.length, 1, JSON.stringify(body.reasons));
          assert.match(
            body.reasons[0] ?? '',
            /^sweep: the last completed sweep was \d+ s ago \(more than three watchdog intervals\)$/,
          );
          assert.ok(sample(metrics, 'relay_last_sweep_age_seconds') >= (3 * interval + 2000) / 1000);
          const page = await app.inject({ method: 'GET', url: '/sign-in' });
          assert.match(page.body, /deadline checks have not completed recently/, 'every page says so');
        }
        await sweepCompleted();
        const { status, metrics } = await probe(other);
        assert.equal(status, 200, 'a sweep completing makes every node ready again');
        assert.ok(sample(metrics, 'relay_last_sweep_age_seconds') < interval / 1000);
      } finally {
        await other.close();
      }
    });

    it('is 503 when a heartbeat or the last sweep is in the future: a clock moved back is a fault', async () => {
      relay.clock.set('2026-11-25T14:00:00Z');
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      await sweepCompleted();
      assert.equal((await probe(relay.app)).status, 200);

      relay.clock.set('2026-11-25T11:00:00Z');
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 503);
      assert.equal(body.components.dispatcher?.ageMs, -3 * 3600_000);
      assert.equal(body.components.dispatcher?.stale, true, 'a negative age is not fresh');
      assert.ok(
        body.reasons.includes(
          'dispatcher: the last heartbeat is 10800 s in the future: a clock was moved back',
        ),
        JSON.stringify(body.reasons),
      );
      assert.equal(sample(metrics, 'relay_ready'), 0);

      // The sweep's time is the database server's on PostgreSQL: move it ahead of that clock.
      relay.clock.set('2026-11-25T14:00:00Z');
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      await sweepCompleted();
      await sweepAged(-3 * 3600_000);
      const later = await probe(relay.app);
      assert.equal(later.status, 503);
      assert.equal(later.body.components.sweep?.stale, true);
      assert.equal(later.body.reasons.length, 1, JSON.stringify(later.body.reasons));
      assert.match(later.body.reasons[0] ?? '', /^sweep: the last completed sweep is \d+ s in the future/);

      // A few seconds between nodes' clocks is not a fault.
      await sweepCompleted();
      relay.clock.advance(-5000);
      assert.equal((await probe(relay.app)).status, 200);
    });

    it('is 503 draining while the node shuts down, though healthy', async () => {
      assert.equal((await probe(relay.app)).status, 200);
      relay.ctx.lifecycle.draining = true;
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 503);
      assert.equal(body.status, 'draining');
      assert.equal(body.ready, false);
      assert.equal(body.components.database, 'ok');
      assert.equal(body.components.dispatcher?.stale, false);
      assert.equal(sample(metrics, 'relay_ready'), 0);
      const api = await relay.app.inject({ method: 'GET', url: '/api/v1/referrals' });
      assert.equal(api.statusCode, 503, 'the API refuses work while draining');
    });

    it('is 503 unavailable, with the database unreachable, when the database does not answer', async () => {
      const broken =
        dialect === 'sqlite'
          ? await createTestDatabase('sqlite')
          : { db: openDatabase('postgres://postgres@127.0.0.1:1/relay', { pgPoolSize: 1 }), drop: undefined };
      const ctx = createContext(testConfig(), broken.db, relay.clock);
      const app = buildApp(ctx);
      try {
        await app.ready();
        if (dialect === 'sqlite') await broken.db.close();
        const { status, body, metrics } = await probe(app);
        assert.equal(status, 503);
        assert.deepEqual(body, {
          ready: false,
          status: 'unavailable',
          components: { database: 'unreachable' },
          reasons: ['the database does not answer'],
          webhooks: 'public-only',
        });
        assert.equal(sample(metrics, 'relay_ready'), 0);
        assert.equal(
          metrics.has('relay_referrals_by_status{status=routed}'),
          false,
          'no numbers it cannot know',
        );
      } finally {
        await app.close();
        if (broken.drop) await broken.drop();
        else await broken.db.close();
      }
    });
  });

  describe(`heartbeats from the workers [${dialect}]`, () => {
    let relay: TestRelay;
    before(async () => {
      relay = await createTestRelay(dialect);
    });
    after(async () => relay.close());

    const beats = (component: string) =>
      relay.ctx.db.kysely.selectFrom('heartbeats').selectAll().where('component', '=', component).execute();

    it("records the watchdog's heartbeat on every run", async () => {
      const watchdog = new Watchdog(relay.ctx, quiet);
      await watchdog.runOnce();
      assert.deepEqual(await beats('watchdog'), [
        { component: 'watchdog', node: watchdog.node, beat_at: '2026-11-25T11:00:00.000Z' },
      ]);
      relay.clock.advance(15_000);
      await watchdog.runOnce();
      assert.equal((await beats('watchdog'))[0]?.beat_at, '2026-11-25T11:00:15.000Z');
    });

    it("records the dispatcher's heartbeat after a pass, wired as relay start wires it", async () => {
      const beat = heartbeatEvery(relay.ctx, 'dispatcher');
      let write: Promise<void> | undefined;
      let passed!: () => void;
      const firstPass = new Promise<void>((resolve) => (passed = resolve));
      const dispatcher = new Dispatcher(relay.ctx, {
        transports: { email: noEmail },
        logger: quiet,
        workerId: 'w1',
        onPass: () => {
          write ??= beat();
          passed();
        },
      });
      dispatcher.start();
      await firstPass;
      await dispatcher.stop();
      await write;
      assert.deepEqual(await beats('dispatcher'), [
        { component: 'dispatcher', node: nodeId(), beat_at: '2026-11-25T11:00:15.000Z' },
      ]);
      const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
    });

    it('writes the dispatcher heartbeat at most every third of a watchdog interval', async () => {
      const interval = relay.ctx.config.watchdogIntervalMs;
      relay.clock.set('2026-11-25T12:00:00Z');
      const beat = heartbeatEvery(relay.ctx, 'dispatcher');
      await beat();
      assert.equal((await beats('dispatcher'))[0]?.beat_at, '2026-11-25T12:00:00.000Z');

      relay.clock.advance(interval / 3 - 1);
      assert.equal(beat(), undefined, 'too soon: no write');
      assert.equal((await beats('dispatcher'))[0]?.beat_at, '2026-11-25T12:00:00.000Z');

      relay.clock.advance(1);
      await beat();
      assert.equal(
        (await beats('dispatcher'))[0]?.beat_at,
        new Date(Date.parse('2026-11-25T12:00:00Z') + interval / 3).toISOString(),
      );
    });
  });
}
