import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sweep } from '../../src/assurance/watchdog.ts';
import { failureReason } from '../../src/delivery/failure-reason.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import type { ReferralInputType } from '../../src/referrals/referral.schema.ts';
import { DAY } from '../../src/time.ts';
import {
  directoryWithMesh,
  describeWithMeshSandbox,
  startMeshSandbox,
  TEAM_MAILBOX,
  type MeshSandbox,
} from '../helpers/mesh-sandbox.ts';
import { meshRig } from '../helpers/mesh-rig.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { createTestCa, type TestCa } from '../helpers/tls-certs.ts';
import { startTlsFront, type TlsFront } from '../helpers/tls-front.ts';

describeWithMeshSandbox('MESH over mutual TLS', (dialect) => {
  let sandbox: MeshSandbox;
  let front: TlsFront;
  let ca: TestCa;
  let otherCa: TestCa;
  let relay: TestRelay;
  let smtp: TestSmtpServer;

  before(async () => {
    sandbox = await startMeshSandbox();
    smtp = await startTestSmtpServer();
    ca = createTestCa('mesh');
    otherCa = createTestCa('other');
    const server = ca.issue('mesh-server', { server: true });
    front = await startTlsFront({ target: new URL(sandbox.url), ...server, clientCa: ca.cert });
    const client = ca.issue('relay-client');
    relay = await createTestRelay(dialect, {
      directory: await directoryWithMesh(),
      env: {
        ...sandbox.env,
        MESH_URL: front.url,
        MESH_CLIENT_CERT: client.cert,
        MESH_CLIENT_KEY: client.key,
        MESH_CA_FILE: ca.cert,
        SEND_TIMEOUT: '30s',
      },
    });
  });
  after(async () => {
    await relay?.close();
    await smtp?.close();
    await front?.close();
    await sandbox?.stop();
    ca?.remove();
    otherCa?.remove();
  });

  const { drain, withMesh, raiseToMesh, deliveryRow } = meshRig(
    () => relay,
    () => smtp,
  );

  /** No name or NHS number of the referral's subject in the recorded reason. */
  async function assertNoPersonalData(doc: { id: string }, detail: string) {
    const stored = readPayload(relay.ctx.config.dataKeys, (await findReferral(relay.ctx.db.kysely, doc.id))!);
    const { subject } = stored as ReferralInputType;
    for (const personal of [subject.nhsNumber, subject.givenName, subject.familyName])
      if (personal) assert.ok(!detail.includes(personal), `the reason holds ${personal}`);
  }

  async function escalation(doc: { id: string }, reason: 'failed' | 'not-sent') {
    await sweep(relay.ctx);
    return relay.ctx.db.kysely
      .selectFrom('escalations')
      .select('reason')
      .where('referral_id', '=', doc.id)
      .where('reason', '=', reason)
      .executeTakeFirst();
  }

  /** A certificate refused: failed at once (no retry can mend it), a TLS reason, escalated by the watchdog. */
  async function assertRefused(doc: { id: string }, deliveryId: string) {
    const row = await deliveryRow(deliveryId);
    assert.equal(row.state, 'failed', row.last_error ?? '');
    assert.match(row.last_error ?? '', /^MESH TLS: certificate refused \([A-Z0-9_]+\)$/);
    assert.equal(failureReason(row.last_error), 'tls');
    await assertNoPersonalData(doc, row.last_error ?? '');
    assert.ok(await escalation(doc, 'failed'), 'the watchdog escalates the refused MESH delivery');
  }

  it('delivers a referral through TLS with Relay’s client certificate', async () => {
    const { deliveryId } = await raiseToMesh();
    await drain();
    const row = await deliveryRow(deliveryId);
    assert.equal(row.state, 'sent', row.last_error ?? '');
    const inbox = await sandbox.as(TEAM_MAILBOX, 'GET', `/messageexchange/${TEAM_MAILBOX}/inbox`);
    assert.ok((JSON.parse(inbox.body) as { messages: string[] }).messages.includes(row.provider_message_id!));
  });

  it('is refused without a client certificate: failed, not retried, and escalated', async () => {
    const { doc, deliveryId } = await raiseToMesh();
    const refusedBefore = front.refused;
    await drain(withMesh({ clientCert: undefined, clientKey: undefined }));
    assert.ok(front.refused > refusedBefore, 'the TLS front refused the handshake');
    await assertRefused(doc, deliveryId);
  });

  it('is refused with a client certificate from another CA', async () => {
    const stranger = otherCa.issue('stranger-client');
    const { doc, deliveryId } = await raiseToMesh();
    const refusedBefore = front.refused;
    await drain(withMesh({ clientCert: stranger.cert, clientKey: stranger.key }));
    assert.ok(front.refused > refusedBefore, 'the TLS front refused the handshake');
    const row = await deliveryRow(deliveryId);
    if (row.state === 'failed') return assertRefused(doc, deliveryId);
    // TLS 1.3 races here: Relay may already be writing its request when the server's "unknown CA"
    // alert comes, and then reads a reset, which is no proof of a certificate fault. Retried,
    // recorded as a connection fault, and escalated once the delivery's deadline passes unsent.
    assert.equal(row.state, 'retrying');
    assert.equal(row.last_error, 'MESH network: ECONNRESET');
    assert.equal(failureReason(row.last_error), 'connection');
    await assertNoPersonalData(doc, row.last_error);
    relay.clock.advance(DAY);
    assert.ok(await escalation(doc, 'not-sent'), 'the watchdog escalates the unsent MESH delivery');
  });

  it('refuses a server whose certificate MESH_CA_FILE did not sign', async () => {
    const { doc, deliveryId } = await raiseToMesh();
    await drain(withMesh({ caFile: otherCa.cert }));
    await assertRefused(doc, deliveryId);
    assert.equal(
      (
        JSON.parse(
          (await sandbox.as(TEAM_MAILBOX, 'GET', `/messageexchange/${TEAM_MAILBOX}/inbox`)).body,
        ) as {
          messages: string[];
        }
      ).messages.length,
      1,
      'only the first test’s message reached the team',
    );
  });
});
