import { createAckToken } from '../records/ack-token.ts';
import type { RelayContext } from '../context.ts';
import { formatLondon } from '../time.ts';
import { findAuthority, findTeam, type Directory, type Team } from '../directory/directory.types.ts';
import { findReferral, type ReferralRow } from '../records/referral.repository.ts';
import { isPurged, readPayload } from '../referrals/referral.access.ts';
import { isOutcome, type DeliveryChannel, type Message, type Transports } from './channels/channel.ts';
import { channels } from './channels/registry.ts';
import type { ReferralEmailFacts } from './messages/referral.email.ts';
import type { DeliveryRow } from './outbox.repository.ts';
import type { AttemptOutcome } from './retry.policy.ts';

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
  const authority = routeTeam && findAuthority(directory, routeTeam.authorityId);
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

/**
 * Makes one attempt to deliver; reports the outcome without changing any state. What to say is
 * decided by the purpose, how to say and send it by the channel the delivery names.
 */
export async function attemptDelivery(
  ctx: RelayContext,
  transports: Transports,
  delivery: DeliveryRow,
  known?: Preloaded,
): Promise<AttemptOutcome> {
  const channel = channels[delivery.channel] as DeliveryChannel<unknown> | undefined;
  if (!channel) return { kind: 'permanent', detail: `no channel ${delivery.channel}` };
  const message = await messageFor(ctx, delivery, known);
  if (isOutcome(message)) return message;
  const env = { ctx, ...transports };
  const out = channel.compose(message, env);
  if (typeof out === 'object' && out !== null && isOutcome(out)) return out;
  return channel.send(out, env);
}

/** What the delivery's purpose has to say, whatever the channel; an outcome when there is nothing to send. */
async function messageFor(
  ctx: RelayContext,
  delivery: DeliveryRow,
  known?: Preloaded,
): Promise<Message | AttemptOutcome> {
  const link = ackUrl(ctx, delivery.id);
  switch (delivery.purpose) {
    case 'referral': {
      const a = await loadAddressee(ctx, delivery, known);
      const payload = readPayload(ctx.config.dataKeys, a.referral);
      // Retention only purges closed referrals, so a copy still unsent by then has nothing left to carry.
      if (isPurged(payload)) return { kind: 'permanent', detail: 'personal data removed under retention' };
      const facts = factsOf(ctx, a, link);
      const portal = portalUrl(ctx, a.referral.id);
      const detail = a.team.emailDetail;
      return {
        purpose: 'referral',
        delivery,
        team: a.team,
        ackUrl: link,
        facts,
        referral: a.referral,
        payload,
        portalUrl: portal,
        detail,
      };
    }
    case 'reminder':
    case 'alert-secondary':
    case 'alert-out-of-hours': {
      const a = await loadAddressee(ctx, delivery, known);
      return {
        purpose: delivery.purpose,
        delivery,
        team: a.team,
        ackUrl: link,
        facts: factsOf(ctx, a, link),
        referralId: a.referral.id,
        ackBy: ukTime(await ackByOf(ctx, delivery)),
        forTeamName: a.routeTeam.name,
        phones: a.routeTeam.phones.map((p) => `${p.label} ${p.number}`),
      };
    }
    case 'test-alert': {
      const current = await ctx.directories.current();
      const team = current && findTeam(current.directory, delivery.team_id);
      const sentAt = ctx.clock.now().toISOString();
      return {
        purpose: 'test-alert',
        delivery,
        team,
        ackUrl: link,
        teamName: team?.name ?? delivery.team_id,
        sentAt,
      };
    }
    default:
      return { kind: 'permanent', detail: `no sender for purpose ${String(delivery.purpose)}` };
  }
}

/** `ackUrl` is the message's own link: its token is an HMAC, made once per message. */
function factsOf(ctx: RelayContext, a: Addressee, ackUrl: string): ReferralEmailFacts {
  return {
    reference: a.referral.reference,
    urgency: a.referral.urgency,
    subjectType: a.referral.subject_type,
    referralType: a.referral.referral_type,
    categories: JSON.parse(a.referral.categories) as string[],
    authorityName: a.authorityName,
    teamName: a.team.name,
    receivedAt: ukTime(a.referral.received_at),
    ackUrl,
    portalUrl: portalUrl(ctx, a.referral.id),
  };
}

async function ackByOf(ctx: RelayContext, delivery: DeliveryRow): Promise<string> {
  const route = await ctx.db.kysely
    .selectFrom('routes')
    .select('ack_by')
    .where('id', '=', delivery.route_id ?? '')
    .executeTakeFirstOrThrow();
  return route.ack_by;
}
