import assert from 'node:assert/strict';
import { it } from 'node:test';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { recordSweepCompleted } from '../../src/assurance/sweep-status.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay } from '../helpers/relay.ts';

describeEachDialect('GET /readyz reports bounce handling', (dialect) => {
  const readiness = async (env: Record<string, string>) => {
    const relay = await createTestRelay(dialect, { env });
    try {
      await recordHeartbeat(relay.ctx, 'dispatcher', 'test');
      await recordHeartbeat(relay.ctx, 'watchdog', 'test');
      await recordSweepCompleted(relay.ctx.db.kysely, relay.clock, 'test', 0);
      const response = await relay.app.inject({ method: 'GET', url: '/readyz' });
      return { status: response.statusCode, body: response.json() as { components: { bounces?: string } } };
    } finally {
      await relay.close();
    }
  };

  it("says 'off' when BOUNCES=off, and stays ready: running without bounces is a decision, not a fault", async () => {
    const off = await readiness({ BOUNCES: 'off' });
    assert.equal(off.status, 200);
    assert.equal(off.body.components.bounces, 'off');
  });

  it("says 'on' with a bounce port, and 'not-configured' without one outside production", async () => {
    assert.equal((await readiness({ BOUNCE_SMTP_PORT: '0' })).body.components.bounces, 'on');
    assert.equal((await readiness({})).body.components.bounces, 'not-configured');
  });
});
