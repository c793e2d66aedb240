import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  escalationRows,
  findEscalationItem,
  toEscalationItem,
  type EscalationItem,
} from '../../assurance/escalation.queries.ts';
import { resolveEscalation } from '../../assurance/escalation.resolve.ts';
import { claimEscalation } from '../../records/escalation.service.ts';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { isRoutedTo } from '../../records/referral.repository.ts';
import { DAY } from '../../time.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { isReferralReason } from '../../assurance/pushes/follow-up.ts';
import { escalationPage } from './escalation.detail.ts';
import { escalationFacts, urgencyText } from './escalation.facts.ts';
import {
  escalationView,
  followUpFrom,
  followUpItems,
  readResolveForm,
  RESOLVE_FIELD_IDS,
  validateResolveForm,
  type ResolveForm,
} from './escalation.form.ts';
import { errorList, formField, resolverOf, signedInUser } from './page.helpers.ts';

const LIST_LIMIT = 500;
const RESOLVED_DAYS = 7;

interface IdParams {
  id: string;
}

/** The escalation queue: list (open and claimed, or resolved this week), claim, and resolve with a note. */
export function registerEscalationPages(app: FastifyInstance, ctx: RelayContext): void {
  const post = { preValidation: csrfCheck(app) };

  app.get<{ Querystring: { view?: string; resolved?: string } }>(
    '/safeguarding/escalations',
    async (request, reply) => {
      const resolved = request.query.resolved
        ? await findEscalationItem(ctx, request.query.resolved).catch(() => undefined)
        : undefined;
      return listPage(ctx, reply, request.query.view === 'resolved' ? 'resolved' : 'open', { resolved });
    },
  );

  app.get<{ Params: IdParams }>('/safeguarding/escalations/:id', async (request, reply) =>
    escalationPage(ctx, reply, request.params.id),
  );

  app.post<{ Params: IdParams }>('/safeguarding/escalations/:id/claim', post, async (request, reply) => {
    const id = request.params.id;
    // Claimed from its own page, the person stays on that page; from the list, on the list.
    const fromPage = formField(request.body, 'from') === 'page';
    try {
      await claimEscalation(ctx, id, resolverOf(signedInUser(request)));
    } catch (error) {
      if (!(error instanceof RelayError) || error.code !== 'state-conflict') throw error;
      if (fromPage) return escalationPage(ctx, reply.code(409), id, { problem: error.message });
      return listPage(ctx, reply.code(409), 'open', { problem: error.message });
    }
    if (fromPage) return reply.redirect(`/safeguarding/escalations/${encodeURIComponent(id)}`, 303);
    return reply.redirect(`/safeguarding/escalations#escalation-${encodeURIComponent(id)}`, 303);
  });

  app.get<{ Params: IdParams }>('/safeguarding/escalations/:id/resolve', async (request, reply) =>
    resolvePage(ctx, reply, await findEscalationItem(ctx, request.params.id)),
  );

  app.post<{ Params: IdParams }>('/safeguarding/escalations/:id/resolve', post, async (request, reply) => {
    const item = await findEscalationItem(ctx, request.params.id);
    const form = readResolveForm(request.body);
    if (item.state === 'resolved') return resolvePage(ctx, reply.code(409), item, form);
    const errors = validateResolveForm(
      form,
      await canConfirmReceipt(ctx, item),
      isReferralReason(item.reason),
    );
    if (Object.keys(errors).length > 0) return resolvePage(ctx, reply.code(422), item, form, errors);
    try {
      const user = signedInUser(request);
      // One transaction: the note resolves this escalation and, when confirmed by phone, the
      // acknowledgement is recorded for the team (closing its other escalations for the referral).
      await resolveEscalation(ctx, item.id, {
        note: form.note,
        by: resolverOf(user),
        confirmedByPhone: form.confirmedByPhone ? { name: form.confirmedBy, userId: user.id } : undefined,
        followUpAt: followUpFrom(form, ctx.clock.now()),
      });
    } catch (error) {
      if (!(error instanceof RelayError) || error.code !== 'state-conflict') throw error;
      return resolvePage(ctx, reply.code(409), await findEscalationItem(ctx, item.id), form);
    }
    return reply.redirect(`/safeguarding/escalations?resolved=${encodeURIComponent(item.id)}`, 303);
  });
}

async function listPage(
  ctx: RelayContext,
  reply: FastifyReply,
  view: 'open' | 'resolved',
  notices: { problem?: string; resolved?: EscalationItem },
) {
  let rows = escalationRows(ctx);
  if (view === 'open') {
    rows = rows.where('escalations.state', 'in', ['open', 'claimed']).orderBy('escalations.opened_at');
  } else {
    const since = new Date(ctx.clock.now().getTime() - RESOLVED_DAYS * DAY).toISOString();
    rows = rows
      .where('escalations.state', '=', 'resolved')
      .where('escalations.resolved_at', '>=', since)
      .orderBy('escalations.resolved_at', 'desc');
  }
  const found = await rows.orderBy('escalations.id').limit(LIST_LIMIT).execute();
  const items = await Promise.all(found.map((row) => toEscalationItem(ctx, row)));
  const facts = await escalationFacts(ctx, items, ctx.clock.now());
  return reply.page('safeguarding/escalations.njk', {
    pageTitle: view === 'open' ? 'Escalations' : 'Resolved escalations',
    view,
    resolvedDays: RESOLVED_DAYS,
    items: items.map((item) => {
      const f = facts.get(item.id);
      return { ...escalationView(item), ...f, urgencyText: f?.urgency ? urgencyText(f.urgency) : null };
    }),
    truncated: found.length === LIST_LIMIT,
    problem: notices.problem,
    resolved: notices.resolved && escalationView(notices.resolved),
  });
}

/** "Receipt confirmed by phone" acknowledges for a team, so the escalation must be about a team's copy. */
async function canConfirmReceipt(ctx: RelayContext, item: EscalationItem): Promise<boolean> {
  return (
    item.referralId !== null && item.team !== null && isRoutedTo(ctx.db.kysely, item.referralId, item.team)
  );
}

async function resolvePage(
  ctx: RelayContext,
  reply: FastifyReply,
  item: EscalationItem,
  form: ResolveForm = { note: '', confirmedByPhone: false, confirmedBy: '', followUp: '' },
  errors: Record<string, string> = {},
) {
  const failed = Object.keys(errors).length > 0;
  // The notes of a resolved escalation may name the subject: not kept by the browser.
  return reply.header('cache-control', 'no-store').page('safeguarding/resolve.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Resolve escalation`,
    item: escalationView(item),
    canConfirm: item.state !== 'resolved' && (await canConfirmReceipt(ctx, item)),
    followUpItems: isReferralReason(item.reason) ? followUpItems(ctx, form) : undefined,
    form,
    errors,
    errorList: errorList(errors, RESOLVE_FIELD_IDS),
  });
}
