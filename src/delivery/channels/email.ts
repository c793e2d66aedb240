import type { DeliveryChannel, Message, SendingEnv } from './channel.ts';
import { renderEmail, type EmailContent, type EmailDraft } from './email.draft.ts';

/**
 * Email over SMTP (the pool in email.channel.ts, on its own thread in production). Every purpose
 * goes by email; which addresses get which is the directory's rule (src/directory/targets.ts).
 * Composing here decides the envelope and gathers the facts; the text and HTML are written where
 * the email is sent (on the email thread, when the sender takes drafts), not on the event loop.
 */
export const email: DeliveryChannel<EmailDraft> = {
  compose(message: Message, env: SendingEnv) {
    const referralId = message.purpose === 'test-alert' ? null : referralOf(message);
    return envelope(env, message, contentOf(message), referralId);
  },

  send: (draft, env) =>
    env.email.sendDraft ? env.email.sendDraft(draft) : env.email.send(renderEmail(draft)),
};

function referralOf(message: Exclude<Message, { purpose: 'test-alert' }>): string {
  return message.purpose === 'referral' ? message.referral.id : message.referralId;
}

function contentOf(message: Message): EmailContent {
  switch (message.purpose) {
    case 'referral':
      return {
        kind: 'referral',
        facts: { ...message.facts, referral: message.detail === 'full' ? message.payload : undefined },
      };
    case 'reminder':
    case 'alert-secondary':
    case 'alert-out-of-hours':
      return {
        kind: 'follow-up',
        facts: {
          ...message.facts,
          kind: message.purpose,
          ackBy: message.ackBy,
          forTeamName: message.forTeamName,
          phones: message.phones,
        },
      };
    case 'test-alert':
      return {
        kind: 'test-alert',
        teamName: message.teamName,
        ackUrl: message.ackUrl,
        sentAt: message.sentAt,
      };
  }
}

function envelope(
  env: SendingEnv,
  { delivery }: Message,
  content: EmailContent,
  referralId: string | null,
): EmailDraft {
  const { config } = env.ctx;
  return {
    content,
    from: config.mailFrom,
    envelopeFrom: `bounce+${delivery.id}@${config.bounceDomain}`,
    to: delivery.address,
    messageId: delivery.message_id,
    headers: { ...(referralId ? { 'X-Relay-Referral': referralId } : {}), 'X-Relay-Delivery': delivery.id },
  };
}
