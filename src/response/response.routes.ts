import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireApiKey } from '../access/apikey.auth.ts';
import type { ApiKey } from '../access/apikey.service.ts';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { OUTCOMES, recordOutcome } from './outcome.service.ts';
import { redirectReferral } from './redirect.service.ts';
import { findReferral, isRoutedTo, type ReferralRow } from '../records/referral.repository.ts';
import { acknowledgeForTeam } from './acknowledgement.service.ts';
import { registerAckLinkPages } from './ack-link.pages.ts';
import { parseRequest } from '../http/request-body.ts';

export const AckBody = z.strictObject({
  by: z.string().trim().min(1, 'Say who at the team acknowledged it').max(200),
});

/** A signed-in recipient acknowledges as themself, so naming the person is optional. */
const SessionAckBody = z.strictObject({ by: AckBody.shape.by.optional() });

/**
 * A recipient's session (docs/api.md, Authentication) acts for the first of their teams the referral was routed to.
 * Cookie-authenticated JSON is safe from cross-site forms because the API refuses non-JSON bodies.
 */
async function acknowledgeAsRecipient(ctx: RelayContext, request: FastifyRequest, idOrReference: string) {
  const user = request.user;
  if (!user?.roles.includes('recipient')) {
    throw new RelayError('unauthenticated', 'Send a team API key, or sign in as a member of the team');
  }
  const body = parseRequest(SessionAckBody, request.body ?? {});
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  let teamId: string | undefined;
  for (const team of user.teams) {
    if (referral && (await isRoutedTo(ctx.db.kysely, referral.id, team))) teamId ??= team;
  }
  if (!referral || !teamId)
    throw new RelayError('not-found', 'No referral with that id was routed to your team');
  const result = await acknowledgeForTeam(ctx, referral.id, teamId, {
    method: 'inbox',
    name: body.by ?? user.name,
    actor: `user:${user.id}`,
    userId: user.id,
  });
  return { result, referral, teamId };
}

export const OutcomeBody = z
  .strictObject({
    outcome: z.enum(OUTCOMES),
    note: z.string().trim().min(1, 'Say what the team did').max(5000),
    /** For `redirected`: the team it goes to, so it is re-routed rather than closed and lost. */
    redirectTo: z.string().trim().min(1).max(100).optional(),
  })
  .superRefine(
    (body, issues) => {
      if (body.outcome === 'redirected' && !body.redirectTo) {
        issues.addIssue({
          code: 'custom',
          path: ['redirectTo'],
          message: 'Name the team the referral goes to instead',
        });
      }
      if (body.outcome !== 'redirected' && body.redirectTo) {
        issues.addIssue({
          code: 'custom',
          path: ['redirectTo'],
          message: 'Only a redirected outcome names another team',
        });
      }
    },
    { when: () => true },
  );

type TeamKey = ApiKey & { teamId: string };

/** A receiving team's system: its key is bound to the one team it may act for. */
async function requireTeamKey(ctx: RelayContext, request: FastifyRequest): Promise<TeamKey> {
  const key = await requireApiKey(ctx, request, ['acknowledgements:write']);
  if (!key.teamId) throw new RelayError('forbidden', 'This key is not bound to a team');
  return { ...key, teamId: key.teamId };
}

/** A referral that was not routed to the key's team answers 404, so ids cannot be probed. */
async function referralForTeam(
  ctx: RelayContext,
  idOrReference: string,
  teamId: string,
): Promise<ReferralRow> {
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  if (!referral || !(await isRoutedTo(ctx.db.kysely, referral.id, teamId))) {
    throw new RelayError('not-found', 'No referral with that id was routed to this team');
  }
  return referral;
}

/** The team's first acknowledgement: on a repeat, the one that counts is the earlier one. */
async function acknowledgementOf(ctx: RelayContext, referral: ReferralRow, teamId: string) {
  const ack = await ctx.db.kysely
    .selectFrom('acknowledgements')
    .select(['at', 'by_name', 'method'])
    .where('referral_id', '=', referral.id)
    .where('team_id', '=', teamId)
    .orderBy('at')
    .executeTakeFirstOrThrow();
  return {
    referralId: referral.id,
    reference: referral.reference,
    team: teamId,
    acknowledgedAt: ack.at,
    by: ack.by_name,
    method: ack.method,
  };
}

/** Acknowledgement by link (pages), by a team's system (API), and the team's outcome. */
export function registerAcknowledgementRoutes(app: FastifyInstance, ctx: RelayContext): void {
  registerAckLinkPages(app, ctx);

  app.post<{ Params: { id: string } }>('/api/v1/referrals/:id/acknowledgements', async (request, reply) => {
    if (!request.headers.authorization) {
      const { result, referral, teamId } = await acknowledgeAsRecipient(ctx, request, request.params.id);
      return reply.code(result.acknowledged ? 201 : 200).send(await acknowledgementOf(ctx, referral, teamId));
    }
    const key = await requireTeamKey(ctx, request);
    const body = parseRequest(AckBody, request.body);
    const referral = await referralForTeam(ctx, request.params.id, key.teamId);
    const result = await acknowledgeForTeam(ctx, referral.id, key.teamId, {
      method: 'api',
      name: body.by,
      actor: `apikey:${key.id}`,
      keyId: key.id,
    });
    return reply
      .code(result.acknowledged ? 201 : 200)
      .send(await acknowledgementOf(ctx, referral, key.teamId));
  });

  app.post<{ Params: { id: string } }>('/api/v1/referrals/:id/outcomes', async (request, reply) => {
    const key = await requireTeamKey(ctx, request);
    const body = parseRequest(OutcomeBody, request.body);
    const referral = await referralForTeam(ctx, request.params.id, key.teamId);
    if (body.outcome === 'redirected' && body.redirectTo) {
      const by = { name: key.name, actor: `apikey:${key.id}`, ackMethod: 'api' as const, keyId: key.id };
      const moved = await redirectReferral(ctx, referral.id, key.teamId, body.redirectTo, body.note, by);
      return reply.code(201).send({
        referralId: moved.referralId,
        reference: moved.reference,
        team: key.teamId,
        outcome: 'redirected',
        redirectedTo: moved.toTeamId,
        // The new team's out-of-hours team, when the new team is closed and the referral urgent.
        outOfHours: moved.cover.kind === 'added' ? moved.cover.teamId : null,
      });
    }
    const result = await recordOutcome(ctx, referral.id, key.teamId, body, {
      name: key.name,
      actor: `apikey:${key.id}`,
      ackMethod: 'api',
      keyId: key.id,
    });
    const after = await findReferral(ctx.db.kysely, referral.id);
    return reply.code(result.recorded ? 201 : 200).send({
      referralId: result.referralId,
      reference: result.reference,
      team: result.teamId,
      outcome: result.outcome,
      note: result.note,
      recordedAt: result.recordedAt,
      referralStatus: after?.status ?? referral.status,
    });
  });
}
