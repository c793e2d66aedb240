import {
  composeFollowUpEmail,
  composeTestAlertEmail,
  type FollowUpFacts,
} from '../messages/follow-up.email.ts';
import { composeReferralEmail, type ReferralEmailFacts } from '../messages/referral.email.ts';
import type { OutgoingEmail } from './email.channel.ts';

/** What an email says, before it is written out: a few hundred bytes of facts, not the 8 KB text and HTML. */
export type EmailContent =
  | { kind: 'referral'; facts: ReferralEmailFacts }
  | { kind: 'follow-up'; facts: FollowUpFacts }
  | { kind: 'test-alert'; teamName: string; ackUrl: string; sentAt: string };

/**
 * An email with its envelope decided and its body not yet written. The dispatcher hands this to
 * the email thread, which writes the body there (`renderEmail`): the text and HTML are built on the
 * thread that sends them, and the thread boundary carries the facts rather than the finished email.
 */
export interface EmailDraft extends Omit<OutgoingEmail, 'subject' | 'text' | 'html'> {
  content: EmailContent;
}

export function renderEmail({ content, ...envelope }: EmailDraft): OutgoingEmail {
  return { ...envelope, ...composeContent(content) };
}

function composeContent(content: EmailContent) {
  switch (content.kind) {
    case 'referral':
      return composeReferralEmail(content.facts);
    case 'follow-up':
      return composeFollowUpEmail(content.facts);
    case 'test-alert':
      return composeTestAlertEmail(content);
  }
}
