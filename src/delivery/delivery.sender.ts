import { createAckToken } from '../records/ack-token.ts';
import type { RelayContext } from '../context.ts';
import { formatLondon } from '../time.ts';
import { findTeam, type Directory, type Team } from '../directory/directory.types.ts';
import { findReferral, type ReferralRow } from '../records/referral.repository.ts';
import { isPurged, readPayload } from '../referrals/referral.access.ts';
import type { EmailChannel, OutgoingEmail } from './channels/email.channel.ts';
import { webhookPolicy } from './channels/webhook.address.ts';
import { sendWebhook } from './channels/webhook.channel.ts';
import {
  composeFollowUpEmail,
  composeTestAlertEmail,
  type FollowUpKind,
} from './messages/follow-up.email.ts';
import {
  composeReferralEmail,
  type ComposedEmail,
  type ReferralEmailFacts,
} from './messages/referral.email.ts';
import type { DeliveryRow } from './outbox.repository.ts';
import type { AttemptOutcome } from './retry.policy.ts';

/** Anything that can carry an email: the SMTP pool, or a test double that records. */
export type EmailSender = Pick<EmailChannel, 'send'>;

interface Addressee {
  referral: ReferralRow;
  directory: Directory;
  /** The team this delivery goes to. */
  team: Team;
  /** The team whose copy of the referral this is about (differs for out-of-hours alerts). */
  routeTeam: Team;
  authorityName: string;
}

/** Rows already read for a batch of claimed deliveries, so that each send does not read them again. */
export interface Preloaded {
  referrals: Map<string, ReferralRow>;
  /** route id → the team it routes to */
  routeTeams: Map<string, string>;
}

/** Reads the referrals and routes of a batch of deliveries: two queries for the batch, not two per send. */
export async function preload(ctx: RelayContext, deliveries: DeliveryRow[]): Promise<Preloaded> {
  const referralIds = [...new Set(deliveries.flatMap((d) => d.referral_id ?? []))];
  const routeIds = [...new Set(deliveries.flatMap((d) => d.route_id ?? []))];
  const db = ctx.db.kysely;
  const referrals = referralIds.length
    ? await db.selectFrom('referrals').selectAll().where('id', 'in', referralIds).execute()
    : [];
  const routes = routeIds.length
    ? await db.selectFrom('routes').select(['id', 'team_id']).where('id', 'in', routeIds).execute()
    : [];
  return {
    referrals: new Map(referrals.map((r) => [r.id, r])),
    routeTeams: new Map(routes.map((r) => [r.id, r.team_id])),
  };
}

async function loadAddressee(
  ctx: RelayContext,
  delivery: DeliveryRow,
  known?: Preloaded,
): Promise<Addressee> {
  const referralId = delivery.referral_id;
  const referral = referralId
    ? (known?.referrals.get(referralId) ?? (await findReferral(ctx.db.kysely, referralId)))
    : undefined;
  if (!referral?.directory_version) throw new Error(`Delivery ${delivery.id} has no routed referral`);
  const directory = await ctx.directories.version(referral.directory_version);
  const routeTeamId = delivery.route_id
    ? (known?.routeTeams.get(delivery.route_id) ?? (await routeTeamOf(ctx, delivery.route_id)))
    : undefined;
  const team = findTeam(directory, delivery.team_id);
  const routeTeam = findTeam(directory, routeTeamId ?? delivery.team_id);
  const authority = directory.authorities.find((a) => a.id === routeTeam?.authorityId);
  if (!team || !routeTeam || !authority)
    throw new Error(`Team ${delivery.team_id} is not in its directory version`);
  return { referral, directory, team, routeTeam, authorityName: authority.name };
}

async function routeTeamOf(ctx: RelayContext, routeId: string): Promise<string | undefined> {
  const route = await ctx.db.kysely
    .selectFrom('routes')
    .select('team_id')
    .where('id', '=', routeId)
    .executeTakeFirst();
  return route?.team_id;
}

/** Times in emails are read by people in England: London time, saying so. */
function ukTime(iso: string): string {
  return `${formatLondon(iso)} (UK time)`;
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
  known?: Preloaded,
): Promise<AttemptOutcome> {
  switch (delivery.purpose) {
    case 'referral':
      return sendReferral(ctx, email, delivery, await loadAddressee(ctx, delivery, known));
    case 'reminder':
    case 'alert-secondary':
    case 'alert-out-of-hours':
      return email.send(await followUpEmail(ctx, delivery, await loadAddressee(ctx, delivery, known)));
    case 'test-alert':
      return sendTestAlert(ctx, email, delivery);
    default:
      return { kind: 'permanent', detail: `no sender for purpose ${delivery.purpose}` };
  }
}

async function sendReferral(ctx: RelayContext, email: EmailSender, delivery: DeliveryRow, a: Addressee) {
  const payload = readPayload(ctx.config.dataKeys, a.referral);
  // Retention only purges closed referrals, so a copy still unsent by then has nothing left to carry.
  if (isPurged(payload))
    return { kind: 'permanent', detail: 'personal data removed under retention' } as const;
  if (delivery.channel === 'webhook') {
    const channel = a.team.channels.find((c) => c.kind === 'webhook' && c.url === delivery.address);
    if (channel?.kind !== 'webhook')
      return { kind: 'permanent', detail: 'webhook no longer in directory' } as const;
    const body = JSON.stringify({
      delivery: delivery.id,
      referral: { id: a.referral.id, reference: a.referral.reference, ...payload },
      team: delivery.team_id,
      receivedAt: a.referral.received_at,
      links: { acknowledge: ackUrl(ctx, delivery.id), portal: portalUrl(ctx, a.referral.id) },
    });
    const hook = {
      url: delivery.address,
      secret: channel.secret,
      deliveryId: delivery.id,
      referralId: a.referral.id,
      body,
    };
    return sendWebhook(hook, webhookPolicy(ctx.config), ctx.config.delivery.timeoutMs, ctx.clock.now());
  }
  const composed = composeReferralEmail({
    ...facts(ctx, delivery, a),
    referral: a.team.emailDetail === 'full' ? payload : undefined,
  });
  return email.send(envelope(ctx, delivery, composed, a.referral.id));
}

function facts(ctx: RelayContext, delivery: DeliveryRow, a: Addressee): ReferralEmailFacts {
  return {
    reference: a.referral.reference,
    urgency: a.referral.urgency,
    subjectType: a.referral.subject_type,
    referralType: a.referral.referral_type,
    categories: JSON.parse(a.referral.categories) as string[],
    authorityName: a.authorityName,
    teamName: a.team.name,
    receivedAt: ukTime(a.referral.received_at),
    ackUrl: ackUrl(ctx, delivery.id),
    portalUrl: portalUrl(ctx, a.referral.id),
  };
}

async function followUpEmail(ctx: RelayContext, delivery: DeliveryRow, a: Addressee): Promise<OutgoingEmail> {
  const route = await ctx.db.kysely
    .selectFrom('routes')
    .select('ack_by')
    .where('id', '=', delivery.route_id ?? '')
    .executeTakeFirstOrThrow();
  const composed = composeFollowUpEmail({
    ...facts(ctx, delivery, a),
    kind: delivery.purpose as FollowUpKind,
    ackBy: ukTime(route.ack_by),
    forTeamName: a.routeTeam.name,
    phones: a.routeTeam.phones.map((p) => `${p.label} ${p.number}`),
  });
  return envelope(ctx, delivery, composed, a.referral.id);
}

async function sendTestAlert(
  ctx: RelayContext,
  email: EmailSender,
  delivery: DeliveryRow,
): Promise<AttemptOutcome> {
  const current = await ctx.directories.current();
  const team = current && findTeam(current.directory, delivery.team_id);
  const teamName = team?.name ?? delivery.team_id;
  const link = ackUrl(ctx, delivery.id);
  if (delivery.channel === 'webhook') {
    const channel = team?.channels.find((c) => c.kind === 'webhook' && c.url === delivery.address);
    if (channel?.kind !== 'webhook') return { kind: 'permanent', detail: 'webhook no longer in directory' };
    const body = JSON.stringify({
      testAlert: true,
      delivery: delivery.id,
      team: delivery.team_id,
      links: { acknowledge: link },
    });
    return sendWebhook(
      { url: delivery.address, secret: channel.secret, deliveryId: delivery.id, referralId: '', body },
      webhookPolicy(ctx.config),
      ctx.config.delivery.timeoutMs,
      ctx.clock.now(),
    );
  }
  const composed = composeTestAlertEmail({ teamName, ackUrl: link, sentAt: ctx.clock.now().toISOString() });
  return email.send(envelope(ctx, delivery, composed, null));
}

function envelope(
  ctx: RelayContext,
  delivery: DeliveryRow,
  composed: ComposedEmail,
  referralId: string | null,
): OutgoingEmail {
  return {
    ...composed,
    from: ctx.config.mailFrom,
    envelopeFrom: `bounce+${delivery.id}@${ctx.config.bounceDomain}`,
    to: delivery.address,
    messageId: delivery.message_id,
    headers: { ...(referralId ? { 'X-Relay-Referral': referralId } : {}), 'X-Relay-Delivery': delivery.id },
  };
}
