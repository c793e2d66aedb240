import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import nodemailer, { type Transporter } from 'nodemailer';
import type { DeliveryState } from '../../src/db/codes.ts';
import { startBounceListener, type BounceLogger } from '../../src/delivery/bounce/bounce.listener.ts';
import type { Dialect } from '../../src/db/database.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const BOUNCE_DOMAIN = 'bounce.relay.test';
/** The delivery id the fixtures were written with; each test swaps in a real one. */
const FIXTURE_DELIVERY_ID = '3b9f6c2e-8d41-4e7a-9c55-1f2a7d0e4b63';

const FAILURES = [
  {
    fixture: 'postfix-user-unknown',
    status: '5.1.1',
    diagnostic: 'smtp; 550 5.1.1 <adults.referrals@example.org>',
  },
  {
    fixture: 'exim-mailbox-full',
    status: '5.2.2',
    diagnostic: 'smtp; 552 5.2.2 <children.referrals@example.org>',
  },
  { fixture: 'exchange-recipient-not-found', status: '5.1.10', diagnostic: 'smtp;550 5.1.10 RESOLVER.ADR' },
  { fixture: 'qmail-plain-text', status: '5.1.1', diagnostic: '550 5.1.1 <adults.referrals@example.org>' },
];

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

function fixtureFor(name: string, deliveryId: string): string {
  return readFileSync(new URL(`fixtures/${name}.eml`, import.meta.url), 'utf8').replaceAll(
    FIXTURE_DELIVERY_ID,
    deliveryId,
  );
}

interface ListenerRig {
  relay: TestRelay;
  transport: Transporter;
  close(): Promise<void>;
}

/** A test relay with its bounce listener on a free port, logging to `logger`, and a mail client for it. */
async function startListenerRig(dialect: Dialect, logger: BounceLogger): Promise<ListenerRig> {
  const relay = await createTestRelay(dialect, { env: { BOUNCE_DOMAIN } });
  const listener = await startBounceListener(relay.ctx, { port: 0, host: '127.0.0.1', logger });
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: listener.port,
    secure: false,
    ignoreTLS: true,
  });
  return {
    relay,
    transport,
    async close() {
      transport.close();
      await listener.close();
      await relay.close();
    },
  };
}

describeEachDialect('bounce listener over real SMTP', (dialect) => {
  let rig: ListenerRig;
  let relay: TestRelay;
  let transport: Transporter;
  const logs: LogLine[] = [];
  let sequence = 0;

  before(async () => {
    const capture = (level: LogLine['level']) => (obj: object, msg: string) => logs.push({ level, obj, msg });
    rig = await startListenerRig(dialect, {
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    });
    ({ relay, transport } = rig);
  });
  after(async () => rig.close());

  const db = () => relay.ctx.db.kysely;

  /** A fresh referral whose email delivery is in `state` (default: handed to the team's server). */
  async function emailDelivery(
    state: DeliveryState = 'sent',
  ): Promise<{ referralId: string; deliveryId: string }> {
    sequence += 1;
    const response = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({ source: { system: 'test-epcr', reference: `BOUNCE-${sequence}` } }),
    });
    assert.equal(response.statusCode, 201, response.body);
    const doc = response.json() as { id: string; deliveries: { id: string; channel: string }[] };
    const email = doc.deliveries.find((d) => d.channel === 'email');
    assert.ok(email, 'the referral has an email delivery');
    if (state !== 'queued') {
      const at = relay.clock.now().toISOString();
      await db()
        .updateTable('deliveries')
        .set({ state, attempts: 1, sent_at: at, updated_at: at })
        .where('id', '=', email.id)
        .execute();
    }
    return { referralId: doc.id, deliveryId: email.id };
  }

  async function sendBounce(
    fixture: string,
    deliveryId: string,
    to = `bounce+${deliveryId}@${BOUNCE_DOMAIN}`,
  ) {
    const info = await transport.sendMail({
      envelope: { from: '', to },
      raw: fixtureFor(fixture, deliveryId),
    });
    assert.deepEqual(info.accepted, [to], 'the listener accepts the message');
    assert.match(String(info.response), /^250 /);
    return info;
  }

  const delivery = (id: string) =>
    db().selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const auditFor = (id: string) =>
    db().selectFrom('audit_log').selectAll().where('entity_id', '=', id).orderBy('seq').execute();
  const timeline = async (referralId: string) => {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/api/v1/referrals/${referralId}`,
      headers: { authorization: `Bearer ${relay.epcrKey}` },
    });
    assert.equal(response.statusCode, 200);
    return (
      response.json() as { timeline: { kind: string; actor: string; detail: Record<string, unknown> }[] }
    ).timeline;
  };

  /** Whether the listener logged `outcome` for `deliveryId`, with this DSN status when one is named. */
  const logged = (deliveryId: string, outcome: string, status?: string) =>
    logs.some((l) => {
      const line = l.obj as { deliveryId?: string; outcome?: string; status?: string };
      return (
        line.deliveryId === deliveryId &&
        line.outcome === outcome &&
        (status === undefined || line.status === status)
      );
    });

  /** Runs `send` and asserts the delivery and its audit trail are as they were before it. */
  async function assertLeftAlone(deliveryId: string, send: () => Promise<unknown>) {
    const before = await delivery(deliveryId);
    const auditBefore = await auditFor(deliveryId);
    await send();
    assert.deepEqual(await delivery(deliveryId), before);
    assert.deepEqual(await auditFor(deliveryId), auditBefore);
  }

  for (const { fixture, status, diagnostic } of FAILURES) {
    it(`marks the delivery bounced from a ${fixture} notification`, async () => {
      const { referralId, deliveryId } = await emailDelivery();
      await sendBounce(fixture, deliveryId);

      const row = await delivery(deliveryId);
      assert.equal(row.state, 'bounced');
      assert.ok(row.last_error?.startsWith(`bounced: ${status} ${diagnostic}`), row.last_error ?? 'null');
      assert.ok((row.last_error ?? '').length <= 500);

      const audit = (await auditFor(deliveryId)).filter((a) => a.action === 'delivery.bounced');
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor, 'bounce-listener');
      const detail = JSON.parse(audit[0]?.detail ?? '{}') as Record<string, unknown>;
      assert.equal(detail.status, status);
      assert.equal(detail.referral, referralId);
      assert.equal(audit[0]?.detail.includes('@'), false, 'no address in the audit log');

      const event = (await timeline(referralId)).find((e) => e.kind === 'delivery-bounced');
      assert.ok(event, 'the timeline shows the bounce');
      assert.equal(event.actor, 'bounce-listener');
      assert.equal(event.detail.delivery, deliveryId);
      assert.equal(event.detail.from, 'sent');
    });
  }

  it('records a delayed notification as a log line only', async () => {
    const { referralId, deliveryId } = await emailDelivery();
    await assertLeftAlone(deliveryId, () => sendBounce('postfix-delayed', deliveryId));
    assert.equal(
      (await timeline(referralId)).some((e) => e.kind === 'delivery-bounced'),
      false,
    );
    assert.ok(logged(deliveryId, 'ignored-not-failed', '4.4.7'));
  });

  it('accepts and ignores a bounce for an unknown delivery id, even if the returned message names a real one', async () => {
    const { deliveryId } = await emailDelivery();
    const unknown = randomUUID();
    await assertLeftAlone(deliveryId, () =>
      sendBounce('postfix-user-unknown', deliveryId, `bounce+${unknown}@${BOUNCE_DOMAIN}`),
    );
    assert.ok(logged(unknown, 'ignored-unknown'));
  });

  it('accepts and ignores mail for a stranger’s address, and never rejects a recipient', async () => {
    const { deliveryId } = await emailDelivery();
    await assertLeftAlone(deliveryId, async () => {
      for (const to of [
        'postmaster@elsewhere.example',
        `bounce+${deliveryId}@elsewhere.example`,
        `bounce@${BOUNCE_DOMAIN}`,
      ]) {
        await sendBounce('postfix-user-unknown', deliveryId, to);
      }
    });
  });

  it('acts on the bounce address when a stranger’s address shares the envelope', async () => {
    const { deliveryId } = await emailDelivery();
    const to = [`someone@elsewhere.example`, `bounce+${deliveryId}@${BOUNCE_DOMAIN}`];
    const info = await transport.sendMail({
      envelope: { from: '', to: to.join(', ') },
      raw: fixtureFor('exim-mailbox-full', deliveryId),
    });
    assert.deepEqual(info.accepted, to);
    assert.equal((await delivery(deliveryId)).state, 'bounced');
  });

  for (const state of ['acknowledged', 'queued', 'failed'] as const) {
    it(`leaves a delivery that is ${state} alone`, async () => {
      const { deliveryId } = await emailDelivery(state);
      await assertLeftAlone(deliveryId, () => sendBounce('postfix-user-unknown', deliveryId));
      assert.ok(logged(deliveryId, 'ignored-state'));
    });
  }

  it('applies a repeated notification once', async () => {
    const { deliveryId } = await emailDelivery();
    await sendBounce('exchange-recipient-not-found', deliveryId);
    await sendBounce('exchange-recipient-not-found', deliveryId);
    const bounced = (await auditFor(deliveryId)).filter((a) => a.action === 'delivery.bounced');
    assert.equal(bounced.length, 1);
    assert.equal((await delivery(deliveryId)).state, 'bounced');
  });

  it('logs ids, actions and status codes, never addresses or message content', () => {
    assert.ok(logs.length > 0);
    const text = JSON.stringify(logs);
    for (const leak of [
      '@',
      'example.org',
      'Recipient address rejected',
      'Safeguarding referral',
      'SR-2026',
    ]) {
      assert.equal(text.includes(leak), false, `a log line carries ${leak}`);
    }
    assert.equal(
      logs.some((l) => l.level === 'error'),
      false,
    );
  });
});

describe('bounce listener when it cannot record [sqlite]', () => {
  let rig: ListenerRig;
  let relay: TestRelay;
  let transport: Transporter;
  const errors: object[] = [];

  before(async () => {
    const ignore = () => undefined;
    rig = await startListenerRig('sqlite', { info: ignore, warn: ignore, error: (obj) => errors.push(obj) });
    ({ relay, transport } = rig);
  });
  after(async () => rig.close());

  it('refuses a message over the size limit with 552', async () => {
    const raw =
      fixtureFor('postfix-user-unknown', randomUUID()) + 'x'.repeat(76).concat('\r\n').repeat(140_000);
    await assert.rejects(
      transport.sendMail({ envelope: { from: '', to: `bounce+${randomUUID()}@${BOUNCE_DOMAIN}` }, raw }),
      (error: { responseCode?: number }) => error.responseCode === 552,
    );
  });

  it('answers 451 when the database is down, so the reporting MTA tries again later', async () => {
    await relay.ctx.db.close();
    await assert.rejects(
      transport.sendMail({
        envelope: { from: '', to: `bounce+${randomUUID()}@${BOUNCE_DOMAIN}` },
        raw: fixtureFor('postfix-user-unknown', randomUUID()),
      }),
      (error: { responseCode?: number }) => error.responseCode === 451,
    );
    assert.equal(errors.length, 1);
  });
});
