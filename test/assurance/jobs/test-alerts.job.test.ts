import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { TEST_ALERTS_PER_SWEEP, testAlertsJob } from '../../../src/assurance/jobs/test-alerts.job.ts';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../../src/directory/directory.service.ts';
import { channelAddress, type Directory } from '../../../src/directory/directory.types.ts';
import { DAY, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { escalationsOf } from './seed.ts';

/** Counted straight from the demo file, not through the code under test. */
async function demoAddresses(): Promise<string[]> {
  const directory = (await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
  return directory.authorities.flatMap((a) =>
    a.teams.flatMap((t) => t.channels.map((c) => `${t.id} ${channelAddress(c)}`)),
  );
}

describeEachDialect('test alerts job', (dialect) => {
  let relay: TestRelay;
  let expected: string[];
  const db = () => relay.ctx.db.kysely;
  const alerts = () => db().selectFrom('test_alerts').selectAll().orderBy('created_at').execute();

  before(async () => {
    // Wednesday 25 November 2026, 11:00 London.
    relay = await createTestRelay(dialect, {
      now: '2026-11-25T11:00:00Z',
      env: { TEST_ALERT_INTERVAL: '7d' },
    });
    expected = await demoAddresses();
  });
  after(async () => relay.close());

  it('sends every active address a test alert, a few per sweep, and none again within the interval', async () => {
    const job = testAlertsJob();
    const testAlertDeliveries = () =>
      db().selectFrom('deliveries').selectAll().where('purpose', '=', 'test-alert').execute();
    const recorded = [];
    const queued = [];
    for (let sweep = 0; sweep < 6; sweep++) {
      await job(relay.ctx, relay.clock.now());
      recorded.push((await alerts()).length);
      queued.push((await testAlertDeliveries()).length);
      relay.clock.advance(15_000);
    }
    const total = expected.length;
    assert.equal(total, 85, 'the demo directory has 84 email addresses and one webhook');
    // Each sweep records and queues at most TEST_ALERTS_PER_SWEEP alerts, until every address has one.
    const staggered = [1, 2, 3, 4, 5, 6].map((sweep) => Math.min(sweep * TEST_ALERTS_PER_SWEEP, total));
    assert.deepEqual(staggered, [20, 40, 60, 80, 85, 85]);
    assert.deepEqual(recorded, staggered, 'test_alerts rows after each sweep');
    assert.deepEqual(queued, staggered, 'test-alert deliveries after each sweep');
    const rows = await alerts();
    assert.deepEqual(rows.map((r) => `${r.team_id} ${r.address}`).sort(), [...expected].sort());
    const deliveries = await testAlertDeliveries();
    assert.ok(deliveries.every((d) => d.state === 'queued' && d.referral_id === null));
    assert.equal(deliveries.filter((d) => d.channel === 'webhook').length, 1);
    // Each recorded alert is the one queued delivery to its own team and address.
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    for (const alert of rows) {
      const delivery = byId.get(alert.delivery_id);
      assert.deepEqual(
        [delivery?.team_id, delivery?.address],
        [alert.team_id, alert.address],
        `the delivery of the test alert to ${alert.address}`,
      );
    }
    assert.equal(new Set(rows.map((r) => r.delivery_id)).size, total);

    // A fresh job (another node, or a restart) finds nothing due either.
    relay.clock.advance(6 * DAY);
    await testAlertsJob()(relay.ctx, relay.clock.now());
    assert.equal((await alerts()).length, total);
  });

  it('sets ack_by to the end of the next working day, or 24 hours for a team that never closes', async () => {
    const rows = await alerts();
    const primary = rows.find((r) => r.address === 'adults.birmingham@example.org');
    // Created Wednesday; Birmingham adults close at 17:00 on Thursday (GMT in November).
    assert.equal(primary?.ack_by, '2026-11-26T17:00:00.000Z');
    const cover = rows.find((r) => r.address === 'out-of-hours.birmingham@example.org');
    assert.ok(cover);
    assert.equal(Date.parse(cover.ack_by) - Date.parse(cover.created_at), DAY);
  });

  it('sends the next round once the interval has passed, again staggered', async () => {
    relay.clock.set('2026-12-02T11:02:00Z');
    await testAlertsJob()(relay.ctx, relay.clock.now());
    assert.equal((await alerts()).length, expected.length + TEST_ALERTS_PER_SWEEP);
  });
});

describeEachDialect('unacknowledged test alerts', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;

  before(async () => {
    relay = await createTestRelay(dialect, {
      now: '2026-11-25T11:00:00Z',
      env: { TEST_ALERT_INTERVAL: '30d' },
    });
    const job = testAlertsJob();
    for (let sweep = 0; sweep < 5; sweep++) await job(relay.ctx, relay.clock.now());
  });
  after(async () => relay.close());

  it('escalates a bounced test alert at once, before its deadline', async () => {
    const alert = await db()
      .selectFrom('test_alerts')
      .selectAll()
      .where('address', '=', 'adults.coventry@example.org')
      .executeTakeFirstOrThrow();
    await db()
      .updateTable('deliveries')
      .set({ state: 'bounced' })
      .where('id', '=', alert.delivery_id)
      .execute();
    relay.clock.advance(MINUTE);
    await testAlertsJob()(relay.ctx, relay.clock.now());
    const opened = await escalationsOf(db(), 'test-alert-unacknowledged');
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.team_id, 'coventry-adults');
    assert.equal(JSON.parse(opened[0]?.detail ?? '{}').deliveryState, 'bounced');
  });

  it('escalates each unacknowledged alert once after its deadline, and not an acknowledged one', async () => {
    const acknowledged = 'adults.birmingham@example.org';
    await db()
      .updateTable('test_alerts')
      .set({ acknowledged_at: relay.clock.now().toISOString(), acknowledged_by: 'Sam at the front door' })
      .where('address', '=', acknowledged)
      .execute();
    relay.clock.set('2026-11-26T16:59:00Z');
    const job = testAlertsJob();
    await job(relay.ctx, relay.clock.now());
    const early = await escalationsOf(db(), 'test-alert-unacknowledged');
    assert.ok(early.length < 84, 'day teams still have until 17:00 Thursday');

    relay.clock.set('2026-11-28T12:00:00Z');
    await job(relay.ctx, relay.clock.now());
    await job(relay.ctx, relay.clock.now());
    await testAlertsJob()(relay.ctx, relay.clock.now());
    const all = await escalationsOf(db(), 'test-alert-unacknowledged');
    assert.equal(all.length, 84, 'every address but the acknowledged one, each once');
    const addresses = all.map((e) => JSON.parse(e.detail).address as string);
    assert.equal(new Set(addresses).size, 84);
    assert.ok(!addresses.includes(acknowledged));
    assert.ok(all.every((e) => e.referral_id === null && e.state === 'open'));
    assert.ok(all.every((e) => e.dedupe_key.includes(JSON.parse(e.detail).address)));
  });

  it('holds a repeat failure while the address has an open escalation, and raises it once that is resolved', async () => {
    relay.clock.set('2026-12-26T11:00:00Z');
    const job = testAlertsJob();
    await job(relay.ctx, relay.clock.now());
    relay.clock.set('2026-12-31T12:00:00Z');
    await job(relay.ctx, relay.clock.now());
    const held = await escalationsOf(db(), 'test-alert-unacknowledged');
    // Twenty addresses failed again: only the one acknowledged last time has no open escalation.
    assert.equal(held.length, 85);
    assert.equal(JSON.parse(held.at(-1)?.detail ?? '{}').address, 'adults.birmingham@example.org');

    const first = (await escalationsOf(db(), 'test-alert-unacknowledged'))[0];
    assert.ok(first);
    await db().updateTable('escalations').set({ state: 'resolved' }).where('id', '=', first.id).execute();
    await job(relay.ctx, relay.clock.now());
    const again = (await escalationsOf(db(), 'test-alert-unacknowledged')).filter(
      (e) => JSON.parse(e.detail).address === JSON.parse(first.detail).address,
    );
    assert.equal(again.length, 2, 'the address failed its next test alert too');
  });
});
