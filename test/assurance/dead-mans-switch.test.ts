import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { after, before, it } from 'node:test';
import { readSweepStatus } from '../../src/assurance/sweep-status.ts';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { parseMetrics, sample } from '../helpers/metrics.ts';
import { freePort } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

/** A healthchecks-style monitor: it records every request and answers with the status it is told. */
class OutsideMonitor {
  readonly requests: { method: string; url: string }[] = [];
  status = 200;
  private readonly server: Server = createServer((request, response) => {
    this.requests.push({ method: request.method ?? '', url: request.url ?? '' });
    response.writeHead(this.status).end('OK');
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Logged {
  obj: Record<string, unknown>;
  msg: string;
}

// The token in a monitor's URL is a secret: it must never reach a log line or an error.
const TOKEN = 'f3a9c2e1-secret-token';

describeEachDialect("the dead man's switch, HEARTBEAT_URL", (dialect) => {
  const monitor = new OutsideMonitor();
  let relay: TestRelay;
  const logged: Logged[] = [];
  const logger = {
    info: () => undefined,
    error: (obj: object, msg: string) => void logged.push({ obj: obj as Record<string, unknown>, msg }),
  };
  let watchdog: Watchdog;
  const interval = () => relay.ctx.config.watchdogIntervalMs;
  const metrics = async () => parseMetrics((await relay.app.inject({ method: 'GET', url: '/metrics' })).body);
  const completedAt = async () => (await readSweepStatus(relay.ctx.db.kysely, relay.clock)).completedMs;

  before(async () => {
    const base = await monitor.listen();
    relay = await createTestRelay(dialect, { env: { HEARTBEAT_URL: `${base}/ping/${TOKEN}` } });
    watchdog = new Watchdog(relay.ctx, logger);
  });
  after(async () => {
    await watchdog.stop();
    await relay.close();
    await monitor.close();
  });

  it('GETs the URL after every completed sweep', async () => {
    await watchdog.runOnce();
    assert.deepEqual(monitor.requests, [{ method: 'GET', url: `/ping/${TOKEN}` }]);
    relay.clock.advance(interval());
    await watchdog.runOnce();
    assert.equal(monitor.requests.length, 2, 'one GET per completed sweep');
  });

  it('is not pinged by a node that did not sweep (another holds the lease)', async () => {
    const follower = new Watchdog(relay.ctx, logger);
    await follower.runOnce();
    assert.equal(monitor.requests.length, 2, 'the follower swept nothing, so it said nothing');
  });

  it('counts and logs a failing monitor, without its URL, and the sweep still completes', async () => {
    monitor.status = 500;
    relay.clock.advance(interval());
    const before = await completedAt();
    await watchdog.runOnce();
    assert.equal(monitor.requests.length, 3);
    assert.notEqual(await completedAt(), before, 'the sweep completed and was recorded');
    assert.equal(sample(await metrics(), 'relay_sweep_errors_total', { step: 'heartbeat-url' }), 1);
    const line = logged.find((l) => /dead man's switch/.test(l.msg));
    assert.ok(line, 'the failure is logged');
    assert.equal(line.obj.err, 'HEARTBEAT_URL answered 500');
    assert.ok(!JSON.stringify(logged).includes(TOKEN), 'the secret URL is never logged');
  });

  it('counts a monitor that cannot be reached, and carries on sweeping', async () => {
    const closed = await freePort();
    const unreachable = new Watchdog(
      {
        ...relay.ctx,
        config: {
          ...relay.ctx.config,
          liveness: { ...relay.ctx.config.liveness, heartbeatUrl: `http://127.0.0.1:${closed}/${TOKEN}` },
        },
      },
      logger,
    );
    await watchdog.stop();
    relay.clock.advance(interval());
    await unreachable.runOnce();
    await unreachable.stop();
    assert.equal(sample(await metrics(), 'relay_sweep_errors_total', { step: 'heartbeat-url' }), 2);
    assert.ok(logged.some((l) => l.obj.err === 'could not reach HEARTBEAT_URL (ECONNREFUSED)'));
    assert.ok(!JSON.stringify(logged).includes(TOKEN));
    const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
    const sweep = (ready.json() as { components: { sweep: { stale: boolean } } }).components.sweep;
    assert.equal(sweep.stale, false, 'a failing monitor does not make the sweep stale');
  });
});
