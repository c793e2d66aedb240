import { composeFollowUpEmail, composeTestAlertEmail } from '../messages/follow-up.email.ts';
import { composeReferralEmail, type ComposedEmail } from '../messages/referral.email.ts';
import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import type { OutgoingEmail } from './email.channel.ts';

/**
 * Email over SMTP (the pool in email.channel.ts, on its own thread in production). Every purpose
 * goes by email; which addresses get which is the directory's rule (src/directory/targets.ts).
 */
export const email: DeliveryChannel<OutgoingEmail> = {
  compose(message: Message, env: SendingEnv) {
    const referralId = message.purpose === 'test-alert' ? null : referralOf(message);
    return envelope(env, message, composeFor(message), referralId);
  },

  send: (out, env) => env.email.send(out),
};

function referralOf(message: Exclude<Message, { purpose: 'test-alert' }>): string {
  return message.purpose === 'referral' ? message.referral.id : message.referralId;
}

function composeFor(message: Message): ComposedEmail {
  switch (message.purpose) {
    case 'referral':
      return composeReferralEmail({
        ...message.facts,
        referral: message.detail === 'full' ? message.payload : undefined,
      });
    case 'reminder':
    case 'alert-secondary':
    case 'alert-out-of-hours':
      return composeFollowUpEmail({
        ...message.facts,
        kind: message.purpose,
        ackBy: message.ackBy,
        forTeamName: message.forTeamName,
        phones: message.phones,
      });
    case 'test-alert':
      return composeTestAlertEmail({
        teamName: message.teamName,
        ackUrl: message.ackUrl,
        sentAt: message.sentAt,
      });
  }
}

function envelope(
  env: SendingEnv,
  { delivery }: Message,
  composed: ComposedEmail,
  referralId: string | null,
): OutgoingEmail {
  const { config } = env.ctx;
  return {
    ...composed,
    from: config.mailFrom,
    envelopeFrom: `bounce+${delivery.id}@${config.bounceDomain}`,
    to: delivery.address,
    messageId: delivery.message_id,
    headers: { ...(referralId ? { 'X-Relay-Referral': referralId } : {}), 'X-Relay-Delivery': delivery.id },
  };
}
