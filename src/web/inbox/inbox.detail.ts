import type { FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { PERSONAL_FIELDS, unsealField } from '../../records/personal-data.ts';
import { viewReferral } from '../../referrals/referral.access.ts';
import { statusDocument } from '../../referrals/referral.document.ts';
import type { StatusDocument } from '../../referrals/referral.document.schema.ts';
import {
  findReferral,
  routesOf,
  type ReferralRow,
  type RouteRow,
} from '../../records/referral.repository.ts';
import type { User } from '../../access/user.service.ts';
import { OUTCOME_LABELS, outcomeChoicesFor, type FieldErrors } from './inbox.forms.ts';
import { findTeam, type Team, type TeamKind } from '../../directory/directory.types.ts';
import { readableTimeline } from '../timeline.ts';
import { teamNamer } from './inbox.page.ts';

export interface DetailState {
  /** The team the user is acting for, when they belong to more than one team on this referral. */
  team?: string;
  /** What the last action did, shown as a success banner. */
  notice?: string;
  /** Which form failed, its errors and what was typed, so nothing typed is lost. */
  form?: 'outcome' | 'redirect';
  errors?: FieldErrors;
  values?: Record<string, string>;
}

const NOT_VISIBLE = 'No referral with that reference is visible to you';

/**
 * The referral and the user's own routes on it. A referral not routed to one of the user's teams is
 * "not found", before its content is opened, so guessing ids neither works nor fills the audit log.
 */
export async function referralForRecipient(
  ctx: RelayContext,
  user: User,
  idOrReference: string,
): Promise<{ referral: ReferralRow; mine: RouteRow[] }> {
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  const routes = referral ? await routesOf(ctx.db.kysely, referral.id) : [];
  const mine = routes.filter((r) => user.teams.includes(r.team_id));
  if (!referral || mine.length === 0) throw new RelayError('not-found', NOT_VISIBLE);
  return { referral, mine };
}

/** The requested team's route; otherwise the first one still waiting for the team to act. */
export function actingRoute(mine: RouteRow[], team: string | undefined): RouteRow {
  const chosen = mine.find((r) => r.team_id === team) ?? mine.find((r) => r.outcome === null) ?? mine[0];
  if (!chosen) throw new RelayError('not-found', NOT_VISIBLE);
  return chosen;
}

/** Where the team sent it on, read back from the timeline (the route keeps only the reason). */
function redirectedTo(doc: StatusDocument, teamId: string): string | undefined {
  const event = doc.timeline.find((e) => e.kind === 'redirected' && e.detail.from === teamId);
  return typeof event?.detail.to === 'string' ? event.detail.to : undefined;
}

/** The kind of team (adults, children, out of hours) in the current directory, if it is still there. */
export async function teamKindOf(ctx: RelayContext, teamId: string): Promise<TeamKind | undefined> {
  return findTeam((await ctx.directories.current())?.directory, teamId)?.kind;
}

const LIKELY_KIND = { adult: 'adults', child: 'children' } as const;

/**
 * Every team in the current directory that could take it over (not this one, nor one that has it
 * already), grouped by authority for the select's <optgroup>s: the acting team's own authority
 * first, then the rest by name; in each, teams for the person's age group first.
 */
async function redirectTargets(
  ctx: RelayContext,
  doc: StatusDocument,
  fromTeamId: string,
  selected: string | undefined,
) {
  const directory = (await ctx.directories.current())?.directory;
  const taken = new Set(doc.routes.map((r) => r.team));
  const home = findTeam(directory, fromTeamId)?.authorityId;
  const likely = (t: Team) => (t.kind === LIKELY_KIND[doc.subjectType] ? 0 : 1);
  return (directory?.authorities ?? [])
    .map((a) => ({
      label: a.id === home ? `${a.name} (your area)` : a.name,
      home: a.id === home,
      teams: a.teams
        .filter((t) => !taken.has(t.id))
        .sort((x, y) => likely(x) - likely(y) || x.name.localeCompare(y.name))
        .map((t) => ({ value: t.id, text: t.name, selected: t.id === selected })),
    }))
    .filter((g) => g.teams.length > 0)
    .sort((x, y) => Number(y.home) - Number(x.home) || x.label.localeCompare(y.label));
}

/** The team's note, decrypted; after retention only the fact that it was removed. */
function outcomeNote(ctx: RelayContext, referral: ReferralRow, route: RouteRow): string | null {
  const note = unsealField(ctx.config.dataKeys, PERSONAL_FIELDS.outcomeNote, route.id, route.outcome_note);
  return note ?? (referral.purged_at ? 'removed under the retention policy' : null);
}

/** Renders GET /inbox/referrals/:id, and the same page again with a form's errors (422). */
export async function renderDetail(
  reply: FastifyReply,
  ctx: RelayContext,
  user: User,
  idOrReference: string,
  state: DetailState = {},
) {
  const { referral, mine } = await referralForRecipient(ctx, user, idOrReference);
  const route = actingRoute(mine, state.team);
  const { payload } = await viewReferral(ctx, user, referral.id, 'recipient-view');
  const [doc, teamName] = await Promise.all([statusDocument(ctx, referral), teamNamer(ctx)]);
  const current = (await ctx.directories.current())?.directory;
  const values = state.values ?? {};
  const acknowledgement = doc.acknowledgements.find((a) => a.team === route.team_id);
  const sentTo = route.outcome === 'redirected' ? redirectedTo(doc, route.team_id) : undefined;
  const errors = state.errors && Object.keys(state.errors).length > 0 ? state.errors : undefined;
  return reply.page('inbox/referral.njk', {
    pageTitle: `${errors ? 'Error: ' : ''}Referral ${referral.reference}`,
    payload,
    doc,
    base: `/inbox/referrals/${encodeURIComponent(referral.id)}`,
    // Shown after a POST (a form's errors): the page's own address, so Back never re-posts.
    pageUrl: `/inbox/referrals/${encodeURIComponent(referral.id)}?team=${encodeURIComponent(route.team_id)}`,
    route: { ...route, teamName: teamName(route.team_id), outcome_note: outcomeNote(ctx, referral, route) },
    otherTeams: mine
      .filter((r) => r.id !== route.id)
      .map((r) => ({ id: r.team_id, name: teamName(r.team_id) })),
    acknowledgement,
    outcomeLabel: route.outcome ? (OUTCOME_LABELS[route.outcome] ?? route.outcome) : undefined,
    redirectedTo: sentTo ? teamName(sentTo) : undefined,
    overdue: route.acknowledged_at === null && route.ack_by <= ctx.clock.now().toISOString(),
    notice: state.notice,
    errors,
    errorList: Object.entries(errors ?? {}).map(([id, text]) => ({ text, href: `#${id}` })),
    outcomeItems: outcomeChoicesFor(findTeam(current, route.team_id)?.kind).map((c) => ({
      value: c.value,
      text: c.text,
      hint: { text: c.hint },
      checked: state.form === 'outcome' && values.outcome === c.value,
    })),
    teamGroups: await redirectTargets(
      ctx,
      doc,
      route.team_id,
      state.form === 'redirect' ? values.to : undefined,
    ),
    timeline: await readableTimeline(ctx, doc, { teamName }),
    values,
  });
}
