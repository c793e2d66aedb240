import type { MeshChannel } from '../../directory/directory.types.ts';
import { composeReferralEmail } from '../messages/referral.email.ts';
import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import { MeshClient, type MeshOutgoing } from './mesh.client.ts';
import { fhirReferral } from './webhook.ts';

const FHIR_TYPE = 'application/fhir+json';

type ReferralMessage = Extract<Message, { purpose: 'referral' }>;

/**
 * The referral as a document: its FHIR message Bundle, as a webhook with `format: fhir` gets it;
 * should the Bundle not build, the email's plain-text body (with full detail), so the referral
 * still reaches the team rather than failing on a mapping fault of Relay's.
 */
function referralDocument(message: ReferralMessage): { body: string; contentType: string; ext: string } {
  try {
    return { body: JSON.stringify(fhirReferral(message)), contentType: FHIR_TYPE, ext: 'json' };
  } catch {
    const text = composeReferralEmail({ ...message.facts, referral: message.payload }).text;
    return { body: text, contentType: 'text/plain; charset=utf-8', ext: 'txt' };
  }
}

/**
 * A message to the team's NHS MESH mailbox, from Relay's own (MESH_MAILBOX), through the MESH API
 * (mesh.client.ts). MESH's acceptance makes the delivery `sent`, never acknowledged: a person at the
 * team still acknowledges, as for every channel. What MESH later says of the message (a non-delivery
 * report) is read by the tracking job (mesh.tracking.ts). Like a webhook, a MESH mailbox is
 * addressed for the referral and its test alerts only (src/directory/targets.ts).
 */
export const mesh: DeliveryChannel<MeshOutgoing> = {
  compose(message: Message, { ctx }: SendingEnv) {
    const { delivery } = message;
    // Failing the delivery, which the watchdog escalates, rather than leaving it queued unseen.
    if (!ctx.config.mesh) return { kind: 'permanent', detail: 'MESH not configured (MESH_URL unset)' };
    const entry = message.team?.channels.find(
      (c): c is MeshChannel => c.kind === 'mesh' && c.mailbox === delivery.address,
    );
    if (!entry) return { kind: 'permanent', detail: 'MESH mailbox no longer in directory' };
    const to = { to: entry.mailbox, workflowId: entry.workflowId, localId: delivery.id };
    switch (message.purpose) {
      case 'referral': {
        const { reference, urgency } = message.facts;
        const doc = referralDocument(message);
        return {
          ...to,
          // Seen by MESH and its operators: the reference and urgency only, as an email subject.
          subject: `Safeguarding referral ${reference} (${urgency})`,
          filename: `${reference}.${doc.ext}`,
          contentType: doc.contentType,
          body: doc.body,
        };
      }
      case 'test-alert': {
        const body = JSON.stringify({
          testAlert: true,
          delivery: delivery.id,
          team: delivery.team_id,
          links: { acknowledge: message.ackUrl },
        });
        const subject = 'Safeguard Relay test alert';
        return {
          ...to,
          subject,
          filename: `test-alert-${delivery.id}.json`,
          contentType: 'application/json',
          body,
        };
      }
      default:
        return { kind: 'permanent', detail: `MESH carries no ${message.purpose} (email only)` };
    }
  },

  send(out, { ctx }: SendingEnv) {
    const config = ctx.config.mesh;
    if (!config)
      return Promise.resolve({ kind: 'permanent', detail: 'MESH not configured (MESH_URL unset)' });
    // The Authorization header's timestamp is checked against MESH's wall clock, not Relay's clock.
    return new MeshClient(config, ctx.config.delivery.timeoutMs).send(out);
  },
};
