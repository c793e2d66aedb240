import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { testAlertsJob } from '../../src/assurance/jobs/test-alerts.job.ts';
import { sweep } from '../../src/assurance/watchdog.ts';
import { MeshClient } from '../../src/delivery/channels/mesh.client.ts';
import { trackMeshDeliveries } from '../../src/delivery/channels/mesh.tracking.ts';
import { failureReason } from '../../src/delivery/failure-reason.ts';
import { MessageBundle } from '../../src/fhir/bundle.read.ts';
import { REFERENCE_SYSTEM } from '../../src/fhir/fhir.codes.ts';
import { mapReferral } from '../../src/fhir/referral.mapping.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import type { ReferralInputType } from '../../src/referrals/referral.schema.ts';
import { MINUTE } from '../../src/time.ts';
import {
  directoryWithMesh,
  RELAY_MAILBOX,
  SANDBOX_WORKFLOW,
  describeWithMeshSandbox,
  startMeshSandbox,
  TEAM_MAILBOX,
  type MeshSandbox,
} from '../helpers/mesh-sandbox.ts';
import { meshRig } from '../helpers/mesh-rig.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { Receiver } from '../helpers/webhook.ts';

describeWithMeshSandbox('MESH channel against the MESH sandbox', (dialect) => {
  let sandbox: MeshSandbox;
  let relay: TestRelay;
  let smtp: TestSmtpServer;

  before(async () => {
    // In CI a sandbox that cannot start fails here, and with it every test below.
    sandbox = await startMeshSandbox();
    smtp = await startTestSmtpServer();
    relay = await createTestRelay(dialect, {
      directory: await directoryWithMesh(),
      env: { ...sandbox.env, SEND_TIMEOUT: '30s' },
    });
  });
  after(async () => {
    await relay?.close();
    await smtp?.close();
    await sandbox?.stop();
  });

  const rig = meshRig(
    () => relay,
    () => smtp,
  );
  const { drain, withMesh, deliveryRow } = rig;
  const raiseToMesh = () => rig.raiseToMesh(TEAM_MAILBOX);

  it('sends the referral as a FHIR Bundle that the team’s mailbox receives intact; sent, not acknowledged', async () => {
    const { doc, deliveryId } = await raiseToMesh();
    await drain();

    const row = await deliveryRow(deliveryId);
    assert.equal(row.state, 'sent');
    assert.ok(row.provider_message_id, 'MESH’s message id is kept');
    const referral = await findReferral(relay.ctx.db.kysely, doc.id);
    assert.notEqual(referral?.status, 'acknowledged', 'a MESH acceptance is not an acknowledgement');

    // As the team's MESH client reads it: its inbox, then the message.
    const inbox = await sandbox.as(TEAM_MAILBOX, 'GET', `/messageexchange/${TEAM_MAILBOX}/inbox`);
    assert.equal(inbox.status, 200, inbox.body);
    const id = row.provider_message_id;
    assert.ok((JSON.parse(inbox.body) as { messages: string[] }).messages.includes(id));
    const message = await sandbox.as(TEAM_MAILBOX, 'GET', `/messageexchange/${TEAM_MAILBOX}/inbox/${id}`);
    assert.equal(message.status, 200);
    assert.equal(message.headers.get('mex-from'), RELAY_MAILBOX);
    assert.equal(message.headers.get('mex-workflowid'), SANDBOX_WORKFLOW);
    assert.equal(message.headers.get('mex-localid'), deliveryId);
    assert.equal(message.headers.get('mex-content-type'), 'application/fhir+json');
    const subject = message.headers.get('mex-subject') ?? '';
    assert.match(subject, new RegExp(`^Safeguarding referral ${doc.reference} `));

    const bundle = JSON.parse(message.body) as { id: string; type: string; identifier: unknown };
    assert.equal(bundle.type, 'message');
    assert.equal(bundle.id, deliveryId);
    assert.deepEqual(bundle.identifier, { system: REFERENCE_SYSTEM, value: doc.reference });
    const read = MessageBundle.read(bundle);
    const { source: _s, ...fields } = mapReferral(read.bundle, read.header, read.request).input;
    const stored = readPayload(relay.ctx.config.dataKeys, (await findReferral(relay.ctx.db.kysely, doc.id))!);
    const { source: _t, subjectType: _u, ...expected } = stored as ReferralInputType;
    assert.deepEqual(fields, expected, 'the Bundle reads back as the referral Relay stored');
    // The subject is seen by MESH's operators: no name, NHS number or address.
    for (const personal of [
      expected.subject.nhsNumber,
      expected.subject.familyName,
      'postcode' in expected.subject.address ? expected.subject.address.postcode : undefined,
    ])
      if (personal) assert.ok(!subject.includes(personal), `subject holds ${personal}`);
  });

  it('reads MESH’s tracking: a delivered message stays sent, even once the team has downloaded it', async () => {
    const { deliveryId } = await raiseToMesh();
    await drain();
    const { provider_message_id: id } = await deliveryRow(deliveryId);
    const ack = await sandbox.as(
      TEAM_MAILBOX,
      'PUT',
      `/messageexchange/${TEAM_MAILBOX}/inbox/${id}/status/acknowledged`,
    );
    assert.equal(ack.status, 200, ack.body);

    const client = new MeshClient(relay.ctx.config.mesh!, 30_000);
    const tracking = await client.tracking(id!);
    assert.equal(tracking?.status, 'acknowledged');
    assert.equal(tracking?.success, true);
    const result = await trackMeshDeliveries(relay.ctx, client);
    assert.ok(result.tracked >= 1);
    assert.equal(
      (await deliveryRow(deliveryId)).state,
      'sent',
      'downloaded by a system is not acknowledged by a person',
    );
  });

  it('marks a message MESH could not deliver bounced, and the watchdog escalates it', async () => {
    const { doc, deliveryId } = await raiseToMesh();
    await drain();
    const { provider_message_id: id } = await deliveryRow(deliveryId);
    // The sandbox's stand-in for MESH giving up: the message's status becomes an error.
    const event = await sandbox.admin('POST', `/messageexchange/admin/message/${id}/event`, {
      status: 'error',
      code: '14',
      event: 'SEND',
      description: 'Message not collected by recipient after 5 days',
    });
    assert.equal(event.status, 200, event.body);

    const result = await trackMeshDeliveries(relay.ctx, new MeshClient(relay.ctx.config.mesh!, 30_000));
    assert.ok(result.bounced >= 1);
    const row = await deliveryRow(deliveryId);
    assert.equal(row.state, 'bounced');
    assert.match(row.last_error ?? '', /^bounced: MESH /);

    await sweep(relay.ctx);
    const escalation = await relay.ctx.db.kysely
      .selectFrom('escalations')
      .select(['reason', 'state'])
      .where('referral_id', '=', doc.id)
      .where('reason', '=', 'bounced')
      .executeTakeFirst();
    assert.ok(escalation, 'the watchdog opened a bounced escalation');
  });

  it('applies a non-delivery report in Relay’s inbox, and takes the report out of the inbox', async () => {
    const { deliveryId } = await raiseToMesh();
    await drain();
    const { provider_message_id: id } = await deliveryRow(deliveryId);
    const report = await sandbox.admin('POST', '/messageexchange/admin/report', {
      mailbox_id: RELAY_MAILBOX,
      code: '14',
      description: 'Undelivered message',
      workflow_id: SANDBOX_WORKFLOW,
      local_id: deliveryId,
      linked_message_id: id,
    });
    assert.equal(report.status, 200, report.body);

    const result = await trackMeshDeliveries(relay.ctx, new MeshClient(relay.ctx.config.mesh!, 30_000));
    assert.equal(result.reports, 1);
    assert.equal((await deliveryRow(deliveryId)).state, 'bounced');
    const inbox = await sandbox.as(RELAY_MAILBOX, 'GET', `/messageexchange/${RELAY_MAILBOX}/inbox`);
    assert.deepEqual((JSON.parse(inbox.body) as { messages: string[] }).messages, []);
  });

  it('sends a test alert to the MESH mailbox, recorded as the channel’s own test alert', async () => {
    const job = testAlertsJob();
    // At most 20 addresses a run: run it until the MESH mailbox has had its turn.
    const meshAlert = () =>
      relay.ctx.db.kysely
        .selectFrom('test_alerts')
        .select(['delivery_id', 'address'])
        .where('channel', '=', 'mesh')
        .executeTakeFirst();
    for (let run = 0; run < 10 && !(await meshAlert()); run += 1) await job(relay.ctx, relay.clock.now());
    const alert = await meshAlert();
    assert.equal(alert?.address, TEAM_MAILBOX);
    await drain();
    const row = await deliveryRow(alert.delivery_id);
    assert.equal(row.state, 'sent');
    const message = await sandbox.as(
      TEAM_MAILBOX,
      'GET',
      `/messageexchange/${TEAM_MAILBOX}/inbox/${row.provider_message_id}`,
    );
    assert.equal(message.headers.get('mex-subject'), 'Safeguard Relay test alert');
    const body = JSON.parse(message.body) as {
      testAlert: boolean;
      delivery: string;
      links: { acknowledge: string };
    };
    assert.equal(body.testAlert, true);
    assert.equal(body.delivery, alert.delivery_id);
    assert.match(body.links.acknowledge, /^http:\/\/relay\.test\/ack\//);
  });

  it('retries a 5xx answer and a refused connection, then sends once MESH answers', async () => {
    const receiver = new Receiver();
    receiver.answer = { status: 503 };
    await receiver.listen();
    try {
      const first = await raiseToMesh();
      await drain(withMesh({ url: `http://127.0.0.1:${receiver.port}` }));
      const answered = await deliveryRow(first.deliveryId);
      assert.equal(answered.state, 'retrying');
      assert.match(answered.last_error ?? '', /^MESH HTTP 503/);
      assert.equal(receiver.hits.length, 1);
      assert.match(
        receiver.hits[0]!.headers.authorization ?? '',
        /^NHSMESH X26ABC1:[0-9a-f-]{36}:0:\d{12}:[0-9a-f]{64}$/,
      );
    } finally {
      await receiver.close();
    }
    const second = await raiseToMesh();
    await drain(withMesh({ url: `http://127.0.0.1:${receiver.port}` }));
    const refused = await deliveryRow(second.deliveryId);
    assert.equal(refused.state, 'retrying');
    assert.equal(failureReason(refused.last_error), 'refused');

    relay.clock.advance(60 * MINUTE);
    await drain();
    assert.equal((await deliveryRow(second.deliveryId)).state, 'sent', 'the retry reaches the sandbox');
  });

  it('fails a send MESH refuses for wrong credentials, with a reason that holds no personal data', async () => {
    const { doc, deliveryId } = await raiseToMesh();
    await drain(withMesh({ password: 'not-the-password' }));
    const row = await deliveryRow(deliveryId);
    assert.equal(row.state, 'failed');
    assert.match(row.last_error ?? '', /^MESH HTTP 403/);
    assert.equal(failureReason(row.last_error), 'mesh');
    const stored = readPayload(relay.ctx.config.dataKeys, (await findReferral(relay.ctx.db.kysely, doc.id))!);
    const { subject } = stored as ReferralInputType;
    for (const personal of [subject.nhsNumber, subject.givenName, subject.familyName])
      if (personal) assert.ok(!(row.last_error ?? '').includes(personal));
    await sweep(relay.ctx);
    const escalation = await relay.ctx.db.kysely
      .selectFrom('escalations')
      .select('reason')
      .where('referral_id', '=', doc.id)
      .where('reason', '=', 'failed')
      .executeTakeFirst();
    assert.ok(escalation, 'the watchdog escalates the failed MESH delivery');
  });
});
