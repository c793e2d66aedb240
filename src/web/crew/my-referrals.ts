/**
 * "My referrals": the referrals a crew member raised, newest first, with where each went and what
 * each team decided. Reads status columns and routes only, never the payload, so listing is not a
 * view of personal data and is not audited.
 */
import type { RelayContext } from '../../context.ts';
import { OUTCOME_LABELS, URGENCY_LABELS } from './referral-form.fields.ts';

export const PAGE_SIZE = 25;

/** Each status as a crew member would say it: where the referral is, not Relay's state name. */
export const CREW_STATUS_LABELS: Record<string, string> = {
  received: 'Received',
  triage: 'Being routed by the safeguarding team',
  routed: 'Routed, being sent',
  sent: 'Sent, not yet acknowledged',
  acknowledged: 'Acknowledged',
  escalated: 'Overdue: being chased',
  closed: 'Closed',
};

export interface MyReferral {
  id: string;
  reference: string;
  receivedAt: string;
  urgency: string;
  status: string;
  statusLabel: string;
  teams: { name: string; outcome: string | null; acknowledged: boolean }[];
}

export interface MyReferralsPage {
  items: MyReferral[];
  page: number;
  pages: number;
  total: number;
}

async function teamNamer(ctx: RelayContext, versions: (number | null)[]) {
  const names = new Map<string, string>();
  for (const version of new Set(versions)) {
    if (version === null) continue;
    const directory = await ctx.directories.version(version);
    for (const authority of directory.authorities) {
      for (const team of authority.teams) names.set(`${version}:${team.id}`, team.name);
    }
  }
  return (version: number | null, teamId: string) => names.get(`${version}:${teamId}`) ?? teamId;
}

/** Every route of these referrals in one query, rather than one query per row. */
async function routesOf(ctx: RelayContext, referralIds: string[]) {
  if (referralIds.length === 0) return [];
  return ctx.db.kysely
    .selectFrom('routes')
    .select(['referral_id', 'team_id', 'outcome', 'acknowledged_at'])
    .where('referral_id', 'in', referralIds)
    .orderBy('referral_id')
    .orderBy('position')
    .execute();
}

export async function myReferrals(ctx: RelayContext, userId: string, page: number): Promise<MyReferralsPage> {
  const db = ctx.db.kysely;
  const { n } = await db
    .selectFrom('referrals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('raised_by_user', '=', userId)
    .executeTakeFirstOrThrow();
  const total = Number(n);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  const rows = await db
    .selectFrom('referrals')
    .select(['id', 'reference', 'received_at', 'urgency', 'status', 'directory_version'])
    .where('raised_by_user', '=', userId)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE)
    .offset((current - 1) * PAGE_SIZE)
    .execute();
  const routes = await routesOf(
    ctx,
    rows.map((r) => r.id),
  );
  const teamName = await teamNamer(
    ctx,
    rows.map((r) => r.directory_version),
  );
  const items = rows.map((r) => ({
    id: r.id,
    reference: r.reference,
    receivedAt: r.received_at,
    urgency: URGENCY_LABELS[r.urgency] ?? r.urgency,
    status: r.status,
    statusLabel: CREW_STATUS_LABELS[r.status] ?? r.status,
    teams: routes
      .filter((route) => route.referral_id === r.id)
      .map((route) => ({
        name: teamName(r.directory_version, route.team_id),
        outcome: route.outcome === null ? null : (OUTCOME_LABELS[route.outcome] ?? route.outcome),
        acknowledged: route.acknowledged_at !== null,
      })),
  }));
  return { items, page: current, pages, total };
}
