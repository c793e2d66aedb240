import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

describeEachDialect('relay_live_nodes counts live workers and sweepers cluster-wide', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
  });
  after(() => relay.close());

  const scrape = async () => (await relay.app.inject({ url: '/metrics' })).body;
  const live = (text: string, component: string) =>
    Number(new RegExp(`^relay_live_nodes\\{component="${component}"\\} (\\d+)$`, 'm').exec(text)?.[1]);

  it('counts nodes that beat within three intervals, and forgets those that stopped', async () => {
    assert.equal(live(await scrape(), 'dispatcher'), 0, 'no worker anywhere');
    await recordHeartbeat(relay.ctx, 'dispatcher', 'host-a:10');
    await recordHeartbeat(relay.ctx, 'watchdog', 'host-a:10-x');
    relay.clock.advance(20_000);
    await recordHeartbeat(relay.ctx, 'dispatcher', 'host-b:10');
    await recordHeartbeat(relay.ctx, 'watchdog', 'host-b:10-y');
    let text = await scrape();
    assert.equal(live(text, 'dispatcher'), 2, 'same process id on two hosts: two workers');
    assert.equal(live(text, 'watchdog'), 2);

    // Three intervals (45 s) after host-a's last beat it no longer counts; host-b still does.
    relay.clock.advance(30_000);
    text = await scrape();
    assert.equal(live(text, 'dispatcher'), 1);
    assert.equal(live(text, 'watchdog'), 1);
  });

  it('relay_routes_past_ack_deadline counts routes past their own deadline, not their age', async () => {
    const past = (text: string) => Number(/^relay_routes_past_ack_deadline (\d+)$/m.exec(text)?.[1]);
    await raiseDudley(relay, `PAST-DEADLINE-${process.pid}`);
    const route = await relay.ctx.db.kysely.selectFrom('routes').select('ack_by').executeTakeFirstOrThrow();
    assert.equal(past(await scrape()), 0, 'inside its deadline');
    relay.clock.set(new Date(Date.parse(route.ack_by) + 1000).toISOString());
    assert.equal(past(await scrape()), 1, 'a second past its deadline');
  });
});
