import type { FastifyReply } from 'fastify';
import { findEscalationItem, type EscalationItem } from '../../assurance/escalation.queries.ts';
import type { RelayContext } from '../../context.ts';
import { escalationView } from './escalation.form.ts';
import { escalationReason } from './labels.ts';

const PUSH_STATES: Record<string, string> = {
  queued: 'Waiting to be sent',
  sent: 'Sent',
  failed: 'Not delivered',
  cancelled: 'Not needed: claimed or resolved first',
};
const PUSH_CAUSES: Record<string, string> = {
  opened: 'Opened',
  reopened: 'Re-opened',
  ladder: 'Not claimed in time',
  'claim-lapsed': 'Claim lapsed',
};
const ACTIONS: Record<string, string> = {
  'escalation.opened': 'Opened',
  'escalation.assigned': 'Assigned',
  'escalation.pushed': 'Push queued',
  'escalation.push-sent': 'Push sent',
  'escalation.push-failed': 'Push not delivered',
  'escalation.push-cancelled': 'Push not needed',
  'escalation.claimed': 'Claimed',
  'escalation.claim-lapsed': 'Claim lapsed',
  'escalation.resolved': 'Resolved',
};

/** Who was pushed, when, how, and whether it got through: a push that failed stays on show. */
async function pushesOf(ctx: RelayContext, id: string) {
  const rows = await ctx.db.kysely
    .selectFrom('escalation_pushes')
    .selectAll()
    .where('escalation_id', '=', id)
    .orderBy('created_at')
    .orderBy('channel')
    .execute();
  return rows.map((p) => ({
    ...p,
    rungText: p.rung === 0 ? 'On call' : `Ladder ${p.rung}`,
    causeText: PUSH_CAUSES[p.cause] ?? p.cause,
    stateText: PUSH_STATES[p.state] ?? p.state,
    channelText: p.channel === 'pager' ? 'Pager' : 'Email',
  }));
}

/** The audit entries about this escalation: each change, by whom, with ids and staff names only. */
async function historyOf(ctx: RelayContext, id: string) {
  const rows = await ctx.db.kysely
    .selectFrom('audit_log')
    .select(['at', 'action', 'actor', 'detail'])
    .where('entity_type', '=', 'escalation')
    .where('entity_id', '=', id)
    .orderBy('seq')
    .execute();
  return rows
    .filter((r) => r.action !== 'escalation.pushed')
    .map((r) => {
      const detail = JSON.parse(r.detail) as Record<string, unknown>;
      const who = [detail.to, detail.recipient, detail.claimedBy, detail.by].find(
        (v) => typeof v === 'string',
      );
      return { at: r.at, what: ACTIONS[r.action] ?? r.action, actor: r.actor, who: who ?? '' };
    });
}

/** The escalations before and after this one for the same referral, team and reason. */
async function chainOf(ctx: RelayContext, item: EscalationItem) {
  const chain: EscalationItem[] = [];
  let previous = item.previousId;
  while (previous && chain.length < 50) {
    const before = await findEscalationItem(ctx, previous);
    chain.unshift(before);
    previous = before.previousId;
  }
  let next = await ctx.db.kysely
    .selectFrom('escalations')
    .select('id')
    .where('previous_id', '=', item.id)
    .executeTakeFirst();
  const after: EscalationItem[] = [];
  while (next && after.length < 50) {
    const found = await findEscalationItem(ctx, next.id);
    after.push(found);
    next = await ctx.db.kysely
      .selectFrom('escalations')
      .select('id')
      .where('previous_id', '=', found.id)
      .executeTakeFirst();
  }
  return [...chain, item, ...after].map((e) => ({ ...escalationView(e), current: e.id === item.id }));
}

/**
 * GET /safeguarding/escalations/:id: the escalation, who it was pushed to and whether it got
 * through, its claim, its history and the escalations it re-opened or was re-opened by. The
 * resolution notes may name the subject, so the page is not kept by the browser.
 */
export async function escalationPage(
  ctx: RelayContext,
  reply: FastifyReply,
  id: string,
  notices: { problem?: string } = {},
) {
  const item = await findEscalationItem(ctx, id);
  const referral = item.referralId
    ? await ctx.db.kysely
        .selectFrom('referrals')
        .select('closed_at')
        .where('id', '=', item.referralId)
        .executeTakeFirst()
    : undefined;
  const pushes = await pushesOf(ctx, item.id);
  return reply.header('cache-control', 'no-store').page('safeguarding/escalation.njk', {
    pageTitle: `Escalation: ${escalationReason(item.reason)}`,
    item: escalationView(item),
    pushes,
    undelivered: [...new Set(pushes.filter((p) => p.state === 'failed').map((p) => p.recipient))],
    history: await historyOf(ctx, item.id),
    chain: await chainOf(ctx, item),
    canClose: referral !== undefined && referral.closed_at === null,
    problem: notices.problem,
  });
}
