import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { recentReferral } from '../helpers/referrals.ts';
import { eventually, useProcessRelaySuite } from '../helpers/process.ts';

const REFERRALS = 24;

describeEachDialect('a relay process killed while sending', (dialect) => {
  const suite = useProcessRelaySuite(dialect, {
    DELIVERY_LEASE: '3s',
    DISPATCH_POLL: '200ms',
    DISPATCH_CONCURRENCY: '4',
    SEND_TIMEOUT: '10s',
    // Test alerts would join the deliveries below, and the demo's webhook never answers.
    TEST_ALERT_INTERVAL: 'off',
  });
  // Each message is held before its 250, so the kill lands while sends are in flight.
  before(() => suite().smtp.setDelay(400));

  it('delivers every referral at least once after SIGKILL and restart, with stable Message-IDs', async () => {
    const { database, smtp, epcrKey, start, postReferral } = suite();
    const key = epcrKey('crash-epcr');
    let relay = await start();
    const ids = await Promise.all(
      Array.from({ length: REFERRALS }, async (_, n) => {
        const response = await postReferral(
          key,
          recentReferral({ system: 'crash-epcr', reference: `CRASH-${n}` }),
        );
        assert.equal(response.status, 201);
        return ((await response.json()) as { id: string }).id;
      }),
    );

    await smtp.waitFor(3);
    relay.child.kill('SIGKILL');
    await relay.exited;
    const beforeRestart = smtp.received.length;
    const deliveries = () =>
      database.db.kysely
        .selectFrom('deliveries')
        .select(['id', 'referral_id', 'state', 'message_id'])
        .execute();
    assert.ok(
      (await deliveries()).some((d) => d.state !== 'sent'),
      'the kill left work unfinished',
    );

    relay = await start();
    await eventually(
      async () => (await deliveries()).every((d) => d.state === 'sent'),
      'every delivery sent after the restart',
      60_000,
    );
    relay.child.kill('SIGTERM');
    assert.equal(await relay.exited, 0);

    const rows = await deliveries();
    assert.equal(rows.filter((d) => d.state === 'sending').length, 0, 'nothing left sending');
    const reached = new Set(smtp.received.map((m) => m.parsed.headers.get('x-relay-referral')));
    for (const id of ids) assert.ok(reached.has(id), `referral ${id} reached the SMTP server`);
    const byDelivery = new Map<string, Set<string>>();
    for (const message of smtp.received) {
      const deliveryId = String(message.parsed.headers.get('x-relay-delivery'));
      const seen = byDelivery.get(deliveryId) ?? new Set<string>();
      seen.add(String(message.parsed.messageId));
      byDelivery.set(deliveryId, seen);
    }
    for (const row of rows) {
      assert.deepEqual([...(byDelivery.get(row.id) ?? [])], [row.message_id], `one Message-ID for ${row.id}`);
    }
    assert.ok(smtp.received.length > beforeRestart, 'the restarted process did the rest');
  });
});
