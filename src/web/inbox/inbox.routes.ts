import type { FastifyInstance, FastifyRequest } from 'fastify';
import { acknowledgeForTeam } from '../../response/acknowledgement.service.ts';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { recordOutcome } from '../../response/outcome.service.ts';
import { redirectReferral } from '../../response/redirect.service.ts';
import { csrfCheck } from '../../access/csrf.ts';
import type { User } from '../../access/user.service.ts';
import { actingRoute, referralForRecipient, renderDetail, teamKindOf } from './inbox.detail.ts';
import { field, readOutcomeForm, readRedirectForm, redirectErrors } from './inbox.forms.ts';
import { inboxPage, type InboxQuery } from './inbox.page.ts';

interface Detail {
  Params: { id: string };
  Querystring: { team?: string; done?: string };
}

interface Action {
  Params: { id: string };
  Body: Record<string, unknown>;
}

const NOTICES: Record<string, string> = {
  acknowledged: 'You acknowledged this referral for your team.',
  outcome: 'The outcome is recorded.',
  redirected:
    'The referral is redirected. Relay is sending it to the new team and will chase it until they acknowledge it.',
  'redirected-cover':
    'The referral is redirected. The new team is closed now, so its out-of-hours team is receiving it too. Relay will chase both until they acknowledge it.',
};

/** The guard ran first, so a user is always there; this keeps that fact in one place. */
function userOf(request: FastifyRequest): User {
  if (!request.user) throw new RelayError('unauthenticated');
  return request.user;
}

function detailUrl(id: string, team: string, done: string): string {
  return `/inbox/referrals/${encodeURIComponent(id)}?team=${encodeURIComponent(team)}&done=${done}`;
}

/** The receiving team's pages: its inbox, each referral in full, and what the team does with it. */
export function registerInboxPages(app: FastifyInstance, ctx: RelayContext): void {
  // Every form's POST checks its CSRF token before anything else reads the body.
  const post = { preValidation: csrfCheck(app) };

  app.get<{ Querystring: InboxQuery }>('/inbox', async (request, reply) =>
    reply.page('inbox/inbox.njk', await inboxPage(ctx, userOf(request), request.query)),
  );

  app.get<Detail>('/inbox/referrals/:id', async (request, reply) => {
    const { team, done } = request.query;
    const notice = done && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
    return renderDetail(reply, ctx, userOf(request), request.params.id, { team, notice });
  });

  app.post<Action>('/inbox/referrals/:id/acknowledge', post, async (request, reply) => {
    const user = userOf(request);
    const { referral, mine } = await referralForRecipient(ctx, user, request.params.id);
    const route = actingRoute(mine, field(request.body, 'team'));
    await acknowledgeForTeam(ctx, referral.id, route.team_id, {
      method: 'inbox',
      name: user.name,
      actor: `user:${user.id}`,
      userId: user.id,
    });
    return reply.redirect(detailUrl(referral.id, route.team_id, 'acknowledged'), 303);
  });

  app.post<Action>('/inbox/referrals/:id/outcome', post, async (request, reply) => {
    const user = userOf(request);
    const { referral, mine } = await referralForRecipient(ctx, user, request.params.id);
    const route = actingRoute(mine, field(request.body, 'team'));
    const form = readOutcomeForm(request.body, await teamKindOf(ctx, route.team_id));
    if (!form.valid) {
      const state = { team: route.team_id, form: 'outcome' as const, ...form };
      return renderDetail(reply.code(422), ctx, user, referral.id, state);
    }
    await recordOutcome(ctx, referral.id, route.team_id, form.valid, {
      name: user.name,
      actor: `user:${user.id}`,
      ackMethod: 'inbox',
      userId: user.id,
    });
    return reply.redirect(detailUrl(referral.id, route.team_id, 'outcome'), 303);
  });

  app.post<Action>('/inbox/referrals/:id/redirect', post, async (request, reply) => {
    const user = userOf(request);
    const { referral, mine } = await referralForRecipient(ctx, user, request.params.id);
    const route = actingRoute(mine, field(request.body, 'team'));
    const form = readRedirectForm(request.body, route.team_id);
    const state = { team: route.team_id, form: 'redirect' as const, values: form.values };
    if (Object.keys(form.errors).length > 0)
      return renderDetail(reply.code(422), ctx, user, referral.id, { ...state, errors: form.errors });
    let moved;
    try {
      moved = await redirectReferral(ctx, referral.id, route.team_id, form.values.to, form.values.reason, {
        name: user.name,
        actor: `user:${user.id}`,
        ackMethod: 'inbox',
        userId: user.id,
      });
    } catch (error) {
      if (!(error instanceof RelayError && error.code === 'validation-failed')) throw error;
      const errors = redirectErrors(error.errors);
      return renderDetail(reply.code(422), ctx, user, referral.id, { ...state, errors });
    }
    const done = moved.cover.kind === 'added' ? 'redirected-cover' : 'redirected';
    return reply.redirect(detailUrl(referral.id, route.team_id, done), 303);
  });
}
