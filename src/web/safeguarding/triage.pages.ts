import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import type { CurrentDirectory } from '../../directory/directory.service.ts';
import type { Team } from '../../directory/directory.types.ts';
import { parsePostcode } from '../../directory/postcode.ts';
import { RelayError } from '../../errors.ts';
import { isPurged, viewReferral } from '../../referrals/referral.access.ts';
import type { ReferralInputType } from '../../referrals/referral.schema.ts';
import { handRoutedCover, handRoutedDeadline, routeByHand } from '../../referrals/triage.service.ts';
import {
  finishFromTriage,
  finishProblems,
  HANDOFF_METHODS,
  type TriageFinish,
} from '../../referrals/triage.finish.ts';
import type { User } from '../../access/user.service.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { triageReason } from './labels.ts';
import { errorList, formField, namesIn, resolverOf, signedInUser } from './page.helpers.ts';
import { findTriageItem, openTriageItems, type TriageListRow } from './triage.queries.ts';

interface IdParams {
  id: string;
}

/** The triage queue, and routing one referral by hand to a team chosen from the current directory. */
export function registerTriagePages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: { routed?: string } }>('/safeguarding/triage', async (request, reply) => {
    const now = ctx.clock.now();
    const routed = request.query.routed
      ? await findTriageItem(ctx.db.kysely, request.query.routed)
      : undefined;
    return reply.page('safeguarding/triage.njk', {
      pageTitle: 'Triage',
      items: (await openTriageItems(ctx.db.kysely)).map((row) => triageView(row, now)),
      routed: routed?.resolved_at ? routed : undefined,
    });
  });

  app.get<{ Params: IdParams }>('/safeguarding/triage/:id', async (request, reply) =>
    itemPage(ctx, reply, signedInUser(request), await loadItem(ctx, request.params.id)),
  );

  app.post<{ Params: IdParams }>(
    '/safeguarding/triage/:id',
    { preValidation: csrfCheck(app) },
    async (request, reply) => {
      const user = signedInUser(request);
      const item = await loadItem(ctx, request.params.id);
      if (item.resolved_at) return itemPage(ctx, reply.code(409), user, item);
      const teamId = formField(request.body, 'teamId');
      const current = await ctx.directories.current();
      const team = teamId ? namesIn(current?.directory).team(teamId) : undefined;
      if (!current || !team) {
        const errors = { teamId: 'Select the team to send the referral to' };
        return itemPage(ctx, reply.code(422), user, item, teamId, errors);
      }
      if (formField(request.body, 'confirm') !== 'yes') return confirmPage(ctx, reply, item, team, current);
      try {
        await routeByHand(ctx, item.id, team.id, resolverOf(user));
      } catch (error) {
        if (!(error instanceof RelayError) || error.code !== 'state-conflict') throw error;
        return itemPage(ctx, reply.code(409), user, await loadItem(ctx, item.id));
      }
      return reply.redirect(`/safeguarding/triage?routed=${encodeURIComponent(item.id)}`, 303);
    },
  );

  // Not every referral has a team in the region: hand it to another area's service, or close it.
  for (const kind of ['hand-off', 'close'] as const) {
    app.post<{ Params: IdParams }>(
      `/safeguarding/triage/:id/${kind}`,
      { preValidation: csrfCheck(app) },
      async (request, reply) => {
        const user = signedInUser(request);
        const item = await loadItem(ctx, request.params.id);
        if (item.resolved_at) return itemPage(ctx, reply.code(409), user, item);
        const values = finishForm(request.body);
        const finish: TriageFinish =
          kind === 'close'
            ? { kind: 'closed', reason: values.reason }
            : { kind: 'handed-off', service: values.service, method: values.method, note: values.note };
        const issues = finishProblems(finish);
        if (issues.length > 0) {
          const errors = Object.fromEntries(issues.map((i) => [i.path, i.message]));
          return itemPage(ctx, reply.code(422), user, item, '', errors, values);
        }
        try {
          await finishFromTriage(ctx, item.id, finish, resolverOf(user));
        } catch (error) {
          if (!(error instanceof RelayError) || error.code !== 'state-conflict') throw error;
          return itemPage(ctx, reply.code(409), user, await loadItem(ctx, item.id));
        }
        return reply.redirect(`/safeguarding/triage?routed=${encodeURIComponent(item.id)}`, 303);
      },
    );
  }
}

const finishForm = (body: unknown) => ({
  service: formField(body, 'service'),
  method: formField(body, 'method'),
  note: formField(body, 'note'),
  reason: formField(body, 'reason'),
});

const FINISH_FIELD_IDS = { service: 'service', method: 'method', note: 'note', reason: 'reason' };

async function loadItem(ctx: RelayContext, id: string): Promise<TriageListRow> {
  const item = await findTriageItem(ctx.db.kysely, id);
  if (!item) throw new RelayError('not-found', 'No triage item with that id');
  return item;
}

function triageView(row: TriageListRow, now: Date) {
  return { ...row, reasonText: triageReason(row.reason), overdue: row.triage_by <= now.toISOString() };
}

/**
 * The item page shows postcode districts from the referral's personal data, so it opens the
 * referral through viewReferral, which writes the audit entry; a routed item shows none.
 */
async function itemPage(
  ctx: RelayContext,
  reply: FastifyReply,
  user: User,
  item: TriageListRow,
  teamId = '',
  errors: Record<string, string> = {},
  values: Partial<ReturnType<typeof finishForm>> = {},
) {
  const failed = Object.keys(errors).length > 0;
  const open = item.resolved_at === null;
  const payload = open ? (await viewReferral(ctx, user, item.referral_id, 'triage')).payload : undefined;
  const current = open ? await ctx.directories.current() : undefined;
  return reply.page('safeguarding/triage-item.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Route ${item.reference} by hand`,
    item: triageView(item, ctx.clock.now()),
    location: payload && !isPurged(payload) ? locationOf(payload) : undefined,
    teamGroups: current ? teamGroups(current, teamId) : [],
    errors,
    errorList: errorList(errors, { teamId: 'team-id', ...FINISH_FIELD_IDS }),
    values,
    methodItems: Object.entries(HANDOFF_METHODS).map(([value, text]) => ({
      value,
      text,
      checked: values.method === value,
    })),
  });
}

/** Districts only: enough to choose an authority, without showing the full address. */
function locationOf(payload: ReferralInputType) {
  const district = (postcode: string) => parsePostcode(postcode)?.district ?? 'Not a recognised postcode';
  const address = payload.subject.address;
  return {
    home: 'postcode' in address ? district(address.postcode) : 'No fixed abode',
    incident: district(payload.incident.location.postcode),
    householdChildren: payload.householdChildren ?? 0,
  };
}

function teamGroups(current: CurrentDirectory, selected: string) {
  return [...current.directory.authorities]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((a) => ({
      label: a.name,
      teams: a.teams.map((t) => ({ value: t.id, text: t.name, selected: t.id === selected })),
    }));
}

function confirmPage(
  ctx: RelayContext,
  reply: FastifyReply,
  item: TriageListRow,
  team: Team,
  current: CurrentDirectory,
) {
  const deadline = handRoutedDeadline(item, team, current, ctx);
  const names = namesIn(current.directory);
  const cover = handRoutedCover({ ...item, id: item.referral_id }, team, current, ctx.clock.now());
  return reply.page('safeguarding/triage-confirm.njk', {
    pageTitle: `Send ${item.reference} to ${team.name}?`,
    item,
    team,
    authority: names.authority(team.authorityId),
    deadline: {
      ackBy: deadline.ackBy.toISOString(),
      fromReceipt: deadline.fromReceipt.toISOString(),
      fromNow: deadline.fromNow,
    },
    destinations: destinationsOf(team),
    cover: {
      kind: cover.kind,
      team: cover.kind === 'added' ? names.teamName(cover.teamId) : undefined,
      destinations: cover.kind === 'added' ? destinationsOf(names.team(cover.teamId)) : [],
    },
  });
}

function destinationsOf(team: Team | undefined): string[] {
  return (team?.channels ?? []).flatMap((c) => {
    if (c.kind === 'webhook') return [`Webhook to ${c.url}`];
    if (c.kind === 'mesh') return [`MESH to mailbox ${c.mailbox}`];
    return c.role === 'primary' ? [`Email to ${c.address}`] : [];
  });
}
