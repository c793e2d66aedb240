import { createAckToken } from '../assurance/ack-token.ts';
import type { RelayContext } from '../context.ts';
import type { Team } from '../directory/directory.types.ts';
import type { ReferralInputType } from '../referrals/referral.schema.ts';
import { findReferral, type ReferralRow } from '../referrals/referral.repository.ts';
import type { EmailChannel } from './channels/email.channel.ts';
import { sendWebhook } from './channels/webhook.channel.ts';
import { composeReferralEmail } from './messages/referral.email.ts';
import type { DeliveryRow } from './outbox.repository.ts';
import type { AttemptOutcome } from './retry.policy.ts';

/** Anything that can carry an email: the SMTP pool, or a test double that records. */
export type EmailSender = Pick<EmailChannel, 'send'>;

interface Addressee {
  referral: ReferralRow;
  team: Team;
  authorityName: string;
}

async function loadAddressee(ctx: RelayContext, delivery: DeliveryRow): Promise<Addressee> {
  const referral = delivery.referral_id ? await findReferral(ctx.db.kysely, delivery.referral_id) : undefined;
  if (!referral?.directory_version) throw new Error(`Delivery ${delivery.id} has no routed referral`);
  const directory = await ctx.directories.version(referral.directory_version);
  const authority = directory.authorities.find((a) => a.teams.some((t) => t.id === delivery.team_id));
  const team = authority?.teams.find((t) => t.id === delivery.team_id);
  if (!authority || !team)
    throw new Error(`Team ${delivery.team_id} is not in directory ${referral.directory_version}`);
  return { referral, team, authorityName: authority.name };
}

export function portalUrl(ctx: RelayContext, referralId: string): string {
  return `${ctx.config.baseUrl}/referrals/${referralId}`;
}

export function ackUrl(ctx: RelayContext, deliveryId: string): string {
  return `${ctx.config.baseUrl}/ack/${createAckToken(ctx.config.secret, deliveryId, ctx.clock.now())}`;
}

/** Makes one attempt to deliver; reports the outcome without changing any state. */
export async function attemptDelivery(
  ctx: RelayContext,
  email: EmailSender,
  delivery: DeliveryRow,
): Promise<AttemptOutcome> {
  if (delivery.purpose !== 'referral') {
    return { kind: 'permanent', detail: `no sender for purpose ${delivery.purpose}` };
  }
  const addressee = await loadAddressee(ctx, delivery);
  const payload = JSON.parse(addressee.referral.payload) as ReferralInputType;
  if (delivery.channel === 'webhook') {
    const secret = addressee.team.channels.find((c) => c.kind === 'webhook' && c.url === delivery.address);
    if (!secret || secret.kind !== 'webhook')
      return { kind: 'permanent', detail: 'webhook no longer in directory' };
    const body = JSON.stringify({
      delivery: delivery.id,
      referral: { id: addressee.referral.id, reference: addressee.referral.reference, ...payload },
      team: delivery.team_id,
      receivedAt: addressee.referral.received_at,
      links: { acknowledge: ackUrl(ctx, delivery.id), portal: portalUrl(ctx, addressee.referral.id) },
    });
    const hook = {
      url: delivery.address,
      secret: secret.secret,
      deliveryId: delivery.id,
      referralId: addressee.referral.id,
      body,
    };
    return sendWebhook(hook, ctx.config.delivery.timeoutMs, ctx.clock.now());
  }
  return email.send(referralEmail(ctx, delivery, addressee, payload));
}

function referralEmail(ctx: RelayContext, delivery: DeliveryRow, a: Addressee, payload: ReferralInputType) {
  const composed = composeReferralEmail({
    reference: a.referral.reference,
    urgency: a.referral.urgency,
    subjectType: a.referral.subject_type,
    referralType: a.referral.referral_type,
    categories: JSON.parse(a.referral.categories) as string[],
    authorityName: a.authorityName,
    teamName: a.team.name,
    receivedAt: a.referral.received_at,
    ackUrl: ackUrl(ctx, delivery.id),
    portalUrl: portalUrl(ctx, a.referral.id),
    referral: a.team.emailDetail === 'full' ? payload : undefined,
  });
  return {
    ...composed,
    from: ctx.config.mailFrom,
    envelopeFrom: `bounce+${delivery.id}@${ctx.config.bounceDomain}`,
    to: delivery.address,
    messageId: delivery.message_id,
    headers: { 'X-Relay-Referral': a.referral.id, 'X-Relay-Delivery': delivery.id },
  };
}
