import type { RelayContext } from '../context.ts';
import { findTeam } from '../directory/directory.types.ts';
import { verifyAckToken } from '../records/ack-token.ts';

/** What an acknowledge link points at, with only what the page may show: no personal data. */
export type AckLinkTarget = ReferralLink | TestAlertLink;

export interface PriorAck {
  at: string;
  by: string;
}

export interface ReferralLink {
  kind: 'referral';
  deliveryId: string;
  reference: string;
  /** The team whose receipt acknowledging records: the team the email went to. */
  teamName: string;
  authorityName: string;
  /** The closed team an out-of-hours alert covers for; that team's own route stays chased. */
  coverForTeamName: string | null;
  urgency: string;
  referralType: string;
  subjectType: string;
  categories: string[];
  receivedAt: string;
  ackBy: string;
  acknowledged: PriorAck | null;
}

export interface TestAlertLink {
  kind: 'test-alert';
  deliveryId: string;
  teamName: string;
  sentAt: string;
  ackBy: string;
  acknowledged: PriorAck | null;
}

export type AckLinkProblem = 'invalid' | 'expired' | 'unknown';

export type AckLinkLookup = { ok: true; target: AckLinkTarget } | { ok: false; problem: AckLinkProblem };

/** Checks the token and loads what it points at; reads only, never writes. */
export async function lookUpAckLink(ctx: RelayContext, token: string): Promise<AckLinkLookup> {
  const check = verifyAckToken(ctx.config.secret, token, ctx.clock.now());
  if (!check.ok) return { ok: false, problem: check.reason === 'expired' ? 'expired' : 'invalid' };
  const delivery = await ctx.db.kysely
    .selectFrom('deliveries')
    .select(['id', 'purpose', 'route_id', 'team_id'])
    .where('id', '=', check.deliveryId)
    .executeTakeFirst();
  if (!delivery) return { ok: false, problem: 'unknown' };
  const target =
    delivery.purpose === 'test-alert'
      ? await testAlertLink(ctx, delivery.id)
      : delivery.route_id
        ? await referralLink(ctx, delivery.id, delivery.route_id, delivery.team_id)
        : undefined;
  return target ? { ok: true, target } : { ok: false, problem: 'unknown' };
}

async function referralLink(
  ctx: RelayContext,
  deliveryId: string,
  routeId: string,
  deliveryTeamId: string,
): Promise<ReferralLink | undefined> {
  const row = await ctx.db.kysely
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
    .select([
      'routes.referral_id',
      'routes.team_id',
      'routes.authority_id',
      'routes.ack_by',
      'routes.acknowledged_at',
      'referrals.reference',
      'referrals.urgency',
      'referrals.referral_type',
      'referrals.subject_type',
      'referrals.categories',
      'referrals.received_at',
      'referrals.directory_version',
    ])
    .where('routes.id', '=', routeId)
    .executeTakeFirst();
  if (!row) return undefined;
  const directory = row.directory_version ? await ctx.directories.version(row.directory_version) : undefined;
  const authority = directory?.authorities.find((a) => a.id === row.authority_id);
  // Acknowledging records the receipt of the team the email went to (see ownRouteOf), so the page
  // shows that team's copy: for an out-of-hours alert, one it may not have had until now.
  const own = await ctx.db.kysely
    .selectFrom('routes')
    .select(['id', 'ack_by', 'acknowledged_at'])
    .where('referral_id', '=', row.referral_id)
    .where('team_id', '=', deliveryTeamId)
    .executeTakeFirst();
  // A closed team that acknowledged before its cover did leaves the cover nothing to do: the page
  // then shows that team's acknowledgement.
  const settled = deliveryTeamId !== row.team_id && !own && row.acknowledged_at !== null;
  const cover = deliveryTeamId !== row.team_id && !settled;
  const shown = settled
    ? { id: routeId, teamId: row.team_id, ackBy: row.ack_by, acknowledgedAt: row.acknowledged_at }
    : {
        id: own?.id,
        teamId: deliveryTeamId,
        ackBy: own?.ack_by ?? row.ack_by,
        acknowledgedAt: own?.acknowledged_at,
      };
  return {
    kind: 'referral',
    deliveryId,
    reference: row.reference,
    teamName: findTeam(directory, shown.teamId)?.name ?? shown.teamId,
    authorityName: authority?.name ?? row.authority_id,
    coverForTeamName: cover ? (findTeam(directory, row.team_id)?.name ?? row.team_id) : null,
    urgency: row.urgency,
    referralType: row.referral_type,
    subjectType: row.subject_type,
    categories: JSON.parse(row.categories) as string[],
    receivedAt: row.received_at,
    ackBy: shown.ackBy,
    acknowledged:
      shown.id && shown.acknowledgedAt ? await routeAck(ctx, shown.id, shown.acknowledgedAt) : null,
  };
}

async function routeAck(ctx: RelayContext, routeId: string, at: string): Promise<PriorAck> {
  const ack = await ctx.db.kysely
    .selectFrom('acknowledgements')
    .select(['at', 'by_name'])
    .where('route_id', '=', routeId)
    .orderBy('at')
    .executeTakeFirst();
  return { at: ack?.at ?? at, by: ack?.by_name ?? 'unknown' };
}

async function testAlertLink(ctx: RelayContext, deliveryId: string): Promise<TestAlertLink | undefined> {
  const alert = await ctx.db.kysely
    .selectFrom('test_alerts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .executeTakeFirst();
  if (!alert) return undefined;
  const current = await ctx.directories.current();
  return {
    kind: 'test-alert',
    deliveryId,
    teamName: findTeam(current?.directory, alert.team_id)?.name ?? alert.team_id,
    sentAt: alert.created_at,
    ackBy: alert.ack_by,
    acknowledged: alert.acknowledged_at
      ? { at: alert.acknowledged_at, by: alert.acknowledged_by ?? 'unknown' }
      : null,
  };
}
