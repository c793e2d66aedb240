import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, it } from 'node:test';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { MessageBundle } from '../../src/fhir/bundle.read.ts';
import { OUTBOUND_EXTENSION, REFERENCE_SYSTEM } from '../../src/fhir/fhir.codes.ts';
import { mapReferral } from '../../src/fhir/referral.mapping.ts';
import { loadDirectory, latestVersion } from '../../src/directory/directory.repository.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import type { ReferralInputType } from '../../src/referrals/referral.schema.ts';
import { describeEachDialect } from '../helpers/db.ts';
import type { TestRelay } from '../helpers/relay.ts';
import type { TestSmtpServer } from '../helpers/smtp.ts';
import { startWebhookRig, type Receiver, type WebhookRig } from '../helpers/webhook.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeEachDialect('webhook with format fhir', (dialect) => {
  let rig: WebhookRig;
  let receiver: Receiver;
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let secret: string;

  before(async () => {
    rig = await startWebhookRig(dialect, '/fhir', 'fhir');
    ({ receiver, relay, smtp, secret } = rig);
  });
  after(async () => rig.close());

  it('keeps the format in the stored directory version', async () => {
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    const directory = await loadDirectory(relay.ctx.db.kysely, version.id);
    const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === 'solihull-adults');
    const hook = team?.channels.find((c) => c.kind === 'webhook');
    assert.equal(hook?.kind === 'webhook' && hook.format, 'fhir');
  });

  it('POSTs the referral as a signed FHIR message Bundle that reads back as the referral', async () => {
    const base = exampleReferral();
    const sent = exampleReferral({
      source: { system: 'test-epcr', reference: 'WEBHOOK-FHIR-1' },
      subject: {
        ...base.subject,
        address: { line1: '3 Station Road', town: 'Solihull', postcode: 'B91 3QB' },
      },
    });
    const response = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: sent,
    });
    assert.equal(response.statusCode, 201, response.body);
    const doc = response.json() as {
      id: string;
      reference: string;
      deliveries: { id: string; channel: string }[];
    };
    const delivery = doc.deliveries.find((d) => d.channel === 'webhook');
    assert.ok(delivery);
    const email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    try {
      await new Dispatcher(relay.ctx, { transports: { email }, logger: quiet, workerId: 'w1' }).drain();
    } finally {
      email.close();
    }

    const [hit, ...more] = receiver.for(delivery.id);
    assert.ok(hit, 'the receiver was called');
    assert.equal(more.length, 0);
    assert.match(hit.headers['content-type'] ?? '', /^application\/fhir\+json/);
    const signature = `sha256=${createHmac('sha256', secret).update(hit.body).digest('hex')}`;
    assert.equal(hit.headers['x-relay-signature'], signature, 'signed over the exact body, as for JSON');

    const bundle = JSON.parse(hit.body) as {
      id: string;
      type: string;
      identifier: unknown;
      entry: { resource: { resourceType: string; extension?: { url: string; valueUrl?: string }[] } }[];
    };
    assert.equal(bundle.type, 'message');
    assert.equal(bundle.id, delivery.id);
    assert.deepEqual(bundle.identifier, { system: REFERENCE_SYSTEM, value: doc.reference });
    const header = bundle.entry[0]!.resource;
    assert.equal(header.resourceType, 'MessageHeader');
    const portal = header.extension?.find((e) => e.url === OUTBOUND_EXTENSION.portal);
    assert.equal(portal?.valueUrl, `http://relay.test/referrals/${doc.id}`);
    assert.ok(header.extension?.some((e) => e.url === OUTBOUND_EXTENSION.acknowledge));

    const read = MessageBundle.read(bundle);
    const mapped = mapReferral(read.bundle, read.header, read.request);
    const { source: _s, ...fields } = mapped.input;
    // What Relay stored (normalised, the subject type derived): every field but the source.
    const stored = readPayload(relay.ctx.config.dataKeys, (await findReferral(relay.ctx.db.kysely, doc.id))!);
    const { source: _t, subjectType: _u, ...expected } = stored as ReferralInputType;
    assert.deepEqual(fields, expected);
    assert.equal(expected.concern, sent.concern);

    const row = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select('state')
      .where('id', '=', delivery.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'sent');
  });
});
