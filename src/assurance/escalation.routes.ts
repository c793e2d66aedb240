import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireApiKey } from '../access/apikey.auth.ts';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { isRoutedTo } from '../records/referral.repository.ts';
import { resolveEscalation } from './escalation.resolve.ts';
import {
  escalationRows,
  findEscalationItem,
  toEscalationItem,
  type EscalationItem,
} from './escalation.queries.ts';
import { REFERRAL_REASONS, SYSTEM_REASONS } from '../db/codes.ts';
import { claimEscalation } from '../records/escalation.service.ts';
import { parseRequest } from '../http/request-body.ts';
import { MAX_FOLLOW_UP_MS } from './pushes/follow-up.ts';
import { CLOSE_REASON_MAX, closeReferral } from '../referrals/close.service.ts';

const ESCALATION_STATES = ['open', 'claimed', 'resolved'] as const;
const person = (message: string) => z.string().trim().min(1, message).max(200);

export const ListQuery = z.strictObject({
  state: z.enum(ESCALATION_STATES).optional(),
  reason: z.enum([...REFERRAL_REASONS, ...SYSTEM_REASONS]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

export const ClaimBody = z.strictObject({ by: person('Say who is claiming it') });

export const CloseBody = z.strictObject({
  by: person('Say who is closing it'),
  reason: z.string().trim().min(1, 'Say why the referral is closed').max(CLOSE_REASON_MAX),
});

/** A follow-up named on a resolution: later than now, and at most 24 hours away. */
function followUpOf(raw: string | undefined, now: Date): Date | undefined {
  if (raw === undefined) return undefined;
  const at = new Date(raw);
  if (at.getTime() <= now.getTime() || at.getTime() - now.getTime() > MAX_FOLLOW_UP_MS) {
    throw new RelayError('validation-failed', undefined, [
      { path: 'followUpAt', message: 'Give a time after now and at most 24 hours from now' },
    ]);
  }
  return at;
}

export const ResolveBody = z
  .strictObject({
    by: person('Say who is resolving it'),
    note: z.string().trim().min(1, 'Say what was done').max(5000),
    receiptConfirmedByPhone: z.boolean().optional(),
    confirmedBy: person('Name the person at the team who confirmed receipt').optional(),
    followUpAt: z.iso
      .datetime({ offset: true, error: 'Give a date and time, e.g. 2026-12-06T15:00:00Z' })
      .optional(),
  })
  .superRefine(
    (body, issues) => {
      if (body.receiptConfirmedByPhone === true && !body.confirmedBy) {
        issues.addIssue({
          code: 'custom',
          path: ['confirmedBy'],
          message: 'Name the person at the team who confirmed receipt',
        });
      }
    },
    // zod skips refinements once a field has failed; this one guards its own inputs, so every problem is named.
    { when: () => true },
  );

/** "Receipt confirmed by phone" acknowledges for a team, so the escalation must be about a team's copy. */
async function assertTeamReferral(ctx: RelayContext, item: EscalationItem) {
  if (item.referralId && item.team && (await isRoutedTo(ctx.db.kysely, item.referralId, item.team)))
    return { referralId: item.referralId, teamId: item.team };
  throw new RelayError('validation-failed', undefined, [
    {
      path: 'receiptConfirmedByPhone',
      message: 'This escalation is not about a referral routed to a team, so there is no receipt to confirm',
    },
  ]);
}

/** The safeguarding team's escalation queue: list, claim, resolve; and closing a referral with a reason. */
export function registerEscalationRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/api/v1/escalations', async (request) => {
    await requireApiKey(ctx, request, ['escalations:write']);
    const query = parseRequest(ListQuery, request.query, 'invalid-query');
    let rows = escalationRows(ctx);
    if (query.state) rows = rows.where('escalations.state', '=', query.state);
    if (query.reason) rows = rows.where('escalations.reason', '=', query.reason);
    const found = await rows
      .orderBy('escalations.opened_at')
      .orderBy('escalations.id')
      .limit(query.limit)
      .execute();
    return { items: await Promise.all(found.map((row) => toEscalationItem(ctx, row))) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/escalations/:id/claim', async (request) => {
    const key = await requireApiKey(ctx, request, ['escalations:write']);
    const body = parseRequest(ClaimBody, request.body);
    await claimEscalation(ctx, request.params.id, { name: body.by, actor: `apikey:${key.id}` });
    return findEscalationItem(ctx, request.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/v1/escalations/:id/resolve', async (request) => {
    const key = await requireApiKey(ctx, request, ['escalations:write']);
    const body = parseRequest(ResolveBody, request.body);
    const followUpAt = followUpOf(body.followUpAt, ctx.clock.now());
    const item = await findEscalationItem(ctx, request.params.id);
    if (item.state === 'resolved')
      throw new RelayError('state-conflict', 'The escalation is already resolved');
    if (body.receiptConfirmedByPhone) await assertTeamReferral(ctx, item);
    // The person's note resolves this escalation; the acknowledgement, in the same transaction, then
    // resolves the team's other open escalations for the referral.
    const ack = await resolveEscalation(ctx, item.id, {
      note: body.note,
      by: { name: body.by, actor: `apikey:${key.id}` },
      confirmedByPhone: body.receiptConfirmedByPhone
        ? { name: body.confirmedBy ?? '', keyId: key.id }
        : undefined,
      followUpAt,
    });
    const resolved = await findEscalationItem(ctx, item.id);
    return ack
      ? {
          ...resolved,
          acknowledgement: { acknowledged: ack.acknowledged, acknowledgedAt: ack.acknowledgedAt, by: ack.by },
        }
      : resolved;
  });

  app.post<{ Params: { id: string } }>('/api/v1/referrals/:id/close', async (request) => {
    const key = await requireApiKey(ctx, request, ['escalations:write']);
    const body = parseRequest(CloseBody, request.body);
    const closed = await closeReferral(ctx, request.params.id, body.reason, {
      name: body.by,
      actor: `apikey:${key.id}`,
    });
    return { ...closed, status: 'closed' };
  });
}
