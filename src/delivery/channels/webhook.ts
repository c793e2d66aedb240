import type { WebhookChannel } from '../../directory/directory.types.ts';
import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import { webhookPolicy } from './webhook.address.ts';
import { sendWebhook, type OutgoingWebhook } from './webhook.channel.ts';

/**
 * A signed HTTPS POST of the referral's JSON to the team's system (webhook.channel.ts). A webhook is
 * addressed for the referral and its test alerts only; reminders and deadline alerts are email-only
 * (the directory's rule, src/directory/targets.ts).
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
