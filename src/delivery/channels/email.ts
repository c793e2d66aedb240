import type { Team } from '../../directory/directory.types.ts';
import type { Purpose } from '../../db/codes.ts';
import { composeFollowUpEmail, composeTestAlertEmail } from '../messages/follow-up.email.ts';
import { composeReferralEmail, type ComposedEmail } from '../messages/referral.email.ts';
import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import type { OutgoingEmail } from './email.channel.ts';

/**
 * Email over SMTP (the pool in email.channel.ts, on its own thread in production). Every purpose
 * goes by email: the primary address gets the referral and its reminder, the secondary address the
 * deadline alert, and both are proved by test alerts.
 */
export const email: DeliveryChannel<OutgoingEmail> = {
  addresses(team: Team, purpose: Purpose): string[] {
    if (purpose === 'test-alert')
      return team.channels.flatMap((c) => (c.kind === 'email' ? [c.address] : []));
    const role = purpose === 'alert-secondary' ? 'secondary' : 'primary';
    const addresses = team.channels.flatMap((c) =>
      c.kind === 'email' && c.role === role ? [c.address] : [],
    );
    // The directory allows one primary; a follow-up goes to the first secondary, not to every one.
    return purpose === 'referral' ? addresses : addresses.slice(0, 1);
  },

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
