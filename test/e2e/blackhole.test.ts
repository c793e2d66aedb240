import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { recentReferral } from '../helpers/referrals.ts';
import { eventually, useProcessRelaySuite } from '../helpers/process.ts';

/** The value of one Prometheus series, or undefined when absent. */
function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describeEachDialect(
  'a mail server that accepts connections and never answers, in the real process',
  (dialect) => {
    const suite = useProcessRelaySuite(dialect, {
      SEND_BY: '2s',
      SEND_TIMEOUT: '60s',
      WATCHDOG_INTERVAL_MS: '500',
      DISPATCH_POLL: '200ms',
      TEST_ALERT_INTERVAL: 'off',
    });
    before(() => suite().smtp.setMode('blackhole'));

    it('is never silence: not-sent escalations open, and metrics show the stuck deliveries', async () => {
      const { base, smtp, epcrKey, start, postReferral } = suite();
      const key = epcrKey('e2e-epcr');
      const relay = await start();
      const created = await postReferral(
        key,
        recentReferral({ system: 'e2e-epcr', reference: 'BLACKHOLE-1' }),
      );
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      const doc = async () =>
        (await (
          await fetch(`${base}/api/v1/referrals/${id}`, { headers: { authorization: `Bearer ${key}` } })
        ).json()) as {
          status: string;
          deliveries: { state: string }[];
          escalations: { reason: string; state: string }[];
        };
      await eventually(
        async () => (await doc()).escalations.some((e) => e.reason === 'not-sent'),
        'a not-sent escalation',
        20_000,
      );
      const stuck = await doc();
      assert.equal(stuck.status, 'escalated');
      assert.ok(
        stuck.deliveries.every((d) => d.state === 'sending'),
        'the delivery is still in flight, not forgotten',
      );
      assert.equal(smtp.received.length, 0);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.ok(
        (metric(metrics, 'relay_deliveries', { state: 'sending', channel: 'email' }) ?? 0) >= 1,
        'stuck deliveries show',
      );
      assert.ok(
        (metric(metrics, 'relay_escalations_open', { reason: 'not-sent' }) ?? 0) >= 1,
        'the escalation shows',
      );
      const oldest = Number(/^relay_oldest_unacknowledged_seconds (\S+)$/m.exec(metrics)?.[1]);
      assert.ok(oldest > 0, 'the oldest unacknowledged age grows');

      relay.child.kill('SIGKILL');
    });
  },
);
