import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../helpers/db.ts';
import { eventually, freePort, runRelay, startRelay, type RelayProcess } from '../helpers/process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const REFERRALS = 24;

/** A referral that happened a minute ago by the real clock, for a real process. */
function recentReferral(n: number) {
  const occurredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const base = exampleReferral();
  return exampleReferral({
    source: { system: 'crash-epcr', reference: `CRASH-${n}` },
    incident: { ...base.incident, occurredAt },
  });
}

describeEachDialect('a relay process killed while sending', (dialect) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let env: Record<string, string>;
  let relay: RelayProcess | undefined;

  before(async () => {
    database = await createTestDatabase(dialect, { migrate: false });
    smtp = await startTestSmtpServer();
    // Each message is held before its 250, so the kill lands while sends are in flight.
    smtp.setDelay(400);
    env = {
      DATABASE_URL: database.url,
      ...(database.pgSchema ? { PGOPTIONS: `-c search_path=${database.pgSchema}` } : {}),
      PORT: String(await freePort()),
      SMTP_URL: smtp.url,
      DELIVERY_LEASE: '3s',
      DISPATCH_POLL: '200ms',
      DISPATCH_CONCURRENCY: '4',
      SEND_TIMEOUT: '10s',
      // Test alerts would join the deliveries below, and the demo's webhook never answers.
      TEST_ALERT_INTERVAL: 'off',
    };
    assert.equal(runRelay(['directory', 'import', '--demo'], env).status, 0);
  });
  after(async () => {
    relay?.child.kill('SIGKILL');
    await smtp.close();
    await database.drop();
  });

  it('delivers every referral at least once after SIGKILL and restart, with stable Message-IDs', async () => {
    const created = runRelay(
      ['apikey', 'create', '--name', 'crash', '--scope', 'referrals:write', '--system', 'crash-epcr'],
      env,
    );
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();
    relay = startRelay(env);
    await relay.waitForOutput(/is running/);
    const base = `http://127.0.0.1:${env.PORT}`;
    const ids = await Promise.all(
      Array.from({ length: REFERRALS }, async (_, n) => {
        const response = await fetch(`${base}/api/v1/referrals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(recentReferral(n)),
        });
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

    relay = startRelay(env);
    await relay.waitForOutput(/is running/);
    await eventually(
      async () => (await deliveries()).every((d) => d.state === 'sent'),
      'every delivery sent after the restart',
      60_000,
    );
    relay.child.kill('SIGTERM');
    assert.equal(await relay.exited, 0);
    relay = undefined;

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
