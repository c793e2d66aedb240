import type { RelayContext } from '../../context.ts';
import type { EmailDetail, Team } from '../../directory/directory.types.ts';
import type { ReferralRow } from '../../records/referral.repository.ts';
import type { PurgedPayload, ReferralPayload } from '../../referrals/referral.access.ts';
import { ATTEMPT_OUTCOMES, type FollowUpKind } from '../../db/codes.ts';
import type { ReferralEmailFacts } from '../messages/referral.email.ts';
import type { DeliveryRow } from '../outbox.repository.ts';
import type { AttemptOutcome } from '../retry.policy.ts';
import type { OutgoingEmail } from './email.channel.ts';
import type { EmailDraft } from './email.draft.ts';

/** What every message says, whatever its purpose and channel. */
interface Common {
  delivery: DeliveryRow;
  /** The team the delivery goes to, as the directory has it now; undefined once it has left. */
  team: Team | undefined;
  ackUrl: string;
}

/**
 * What a purpose has to say, before any channel has put it in its own form. The sender builds it
 * once per delivery (reading the referral, its route and the directory); the channel composes it.
 */
export type Message =
  | (Common & {
      purpose: 'referral';
      facts: ReferralEmailFacts;
      referral: ReferralRow;
      /** Never purged: a referral whose personal data is gone has nothing to send. */
      payload: Exclude<ReferralPayload, PurgedPayload>;
      portalUrl: string;
      /** How much of the referral the team asked to receive by email. */
      detail: EmailDetail;
    })
  | (Common & {
      purpose: FollowUpKind;
      facts: ReferralEmailFacts;
      referralId: string;
      ackBy: string;
      /** The team that has not acknowledged, when the alert goes to someone else (out-of-hours). */
      forTeamName: string;
      phones: string[];
    })
  | (Common & { purpose: 'test-alert'; teamName: string; sentAt: string });

/**
 * The long-lived connections channels send through, opened once per process (`relay start`) and
 * handed to the dispatcher; tests hand in their own. A channel that needs no pool (webhook) has none.
 */
export interface Transports {
  /** Anything that can carry an email: the SMTP pool (on its thread), or a test double. */
  email: EmailSender;
}

export interface SendingEnv extends Transports {
  ctx: RelayContext;
}

export interface EmailSender {
  send(message: OutgoingEmail): Promise<AttemptOutcome>;
  /**
   * Optional: writes the email's text and HTML from its draft where it sends it (the email thread),
   * so the event loop hands over a few hundred bytes of facts instead of the finished 8 KB email.
   * A sender without it is handed the finished email (`send`).
   */
  sendDraft?(draft: EmailDraft): Promise<AttemptOutcome>;
}

/**
 * One way of reaching a team. The dispatcher, test alerts and the watchdog look a channel up by the
 * delivery's `channel` code (`channels[delivery.channel]`) and never branch on it themselves.
 */
export interface DeliveryChannel<Out> {
  /**
   * Puts the message in this channel's form, or answers with the outcome when it cannot be sent at
   * all (a webhook that has left the directory, personal data already purged).
   */
  compose(message: Message, env: SendingEnv): Out | AttemptOutcome;
  /**
   * Makes one attempt and classifies the answer: sent, temporary (retried with back-off) or
   * permanent (failed at once, which the watchdog escalates). Never rejects.
   */
  send(out: Out, env: SendingEnv): Promise<AttemptOutcome>;
}

/** Whether compose answered with an outcome rather than a message to send. */
export function isOutcome(value: object): value is AttemptOutcome {
  return 'kind' in value && (ATTEMPT_OUTCOMES as readonly unknown[]).includes(value.kind);
}
