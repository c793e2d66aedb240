import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { heartbeatEvery } from '../../src/cli/start.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import type { EmailSender } from '../../src/delivery/delivery.sender.ts';
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
  };
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

    it('is 200 once the dispatcher and the watchdog have beaten', async () => {
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-a');
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      relay.clock.advance(20_000);
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 200);
      assert.equal(body.status, 'ready');
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
      assert.equal((await probe(relay.app)).status, 200, 'exactly three intervals is still fresh');

      relay.clock.advance(1);
      await recordHeartbeat(relay.ctx, 'watchdog', 'node-b');
      const { status, body, metrics } = await probe(relay.app);
      assert.equal(status, 503);
      assert.equal(body.status, 'unavailable');
      assert.equal(body.components.dispatcher?.stale, true);
      assert.equal(body.components.dispatcher?.ageMs, 3 * interval + 1);
      assert.equal(body.components.watchdog?.stale, false);
      assert.equal(sample(metrics, 'relay_ready'), 0);
      assert.equal(
        sample(metrics, 'relay_heartbeat_age_seconds', { component: 'dispatcher' }),
        (3 * interval + 1) / 1000,
      );

      // Any node's heartbeat counts: the cluster is ready when some dispatcher is alive.
      await recordHeartbeat(relay.ctx, 'dispatcher', 'node-c');
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
        email: noEmail,
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
        { component: 'dispatcher', node: `${process.pid}`, beat_at: '2026-11-25T11:00:15.000Z' },
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
