import type { WebhookChannel } from '../../directory/directory.types.ts';
import { referralBundle } from '../../fhir/referral.bundle.ts';
import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import { webhookPolicy } from './webhook.address.ts';
import { sendWebhook, type OutgoingWebhook } from './webhook.channel.ts';

const FHIR_TYPE = 'application/fhir+json';

/** The referral as a FHIR message Bundle (docs/api.md, FHIR), its message id the delivery's; MESH sends it too. */
export function fhirReferral(message: Extract<Message, { purpose: 'referral' }>) {
  const { referral, delivery } = message;
  return referralBundle(
    {
      id: referral.id,
      reference: referral.reference,
      receivedAt: referral.received_at,
      payload: message.payload,
    },
    {
      messageId: delivery.id,
      teamId: delivery.team_id,
      endpoint: delivery.address,
      links: { acknowledge: message.ackUrl, portal: message.portalUrl },
    },
  );
}

/**
 * A signed HTTPS POST of the referral's JSON (or, for an entry with `format: fhir`, its FHIR message
 * Bundle) to the team's system (webhook.channel.ts). A webhook is addressed for the referral and its
 * test alerts only; reminders and deadline alerts are email-only (src/directory/targets.ts). A test
 * alert is Relay's JSON whatever the format: FHIR messaging has no event for it.
 */
export const webhook: DeliveryChannel<OutgoingWebhook> = {
  compose(message: Message) {
    const { delivery } = message;
    // The secret is read from the directory now, so a rotated secret signs the next attempt.
    const entry = message.team?.channels.find(
      (c): c is WebhookChannel => c.kind === 'webhook' && c.url === delivery.address,
    );
    if (!entry) return { kind: 'permanent', detail: 'webhook no longer in directory' };
    const hook = { url: delivery.address, secret: entry.secret, deliveryId: delivery.id };
    switch (message.purpose) {
      case 'referral': {
        const { referral } = message;
        if (entry.format === 'fhir') {
          const body = JSON.stringify(fhirReferral(message));
          return { ...hook, referralId: referral.id, body, contentType: FHIR_TYPE };
        }
        const body = JSON.stringify({
          delivery: delivery.id,
          referral: { id: referral.id, reference: referral.reference, ...message.payload },
          team: delivery.team_id,
          receivedAt: referral.received_at,
          links: { acknowledge: message.ackUrl, portal: message.portalUrl },
        });
        return { ...hook, referralId: referral.id, body };
      }
      case 'test-alert': {
        const links = { acknowledge: message.ackUrl };
        const body = JSON.stringify({
          testAlert: true,
          delivery: delivery.id,
          team: delivery.team_id,
          links,
        });
        return { ...hook, referralId: '', body };
      }
      default:
        return { kind: 'permanent', detail: `webhooks carry no ${message.purpose} (email only)` };
    }
  },

  send(out, { ctx }: SendingEnv) {
    return sendWebhook(out, webhookPolicy(ctx.config), ctx.config.delivery.timeoutMs, ctx.clock.now());
  },
};
