import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { CLOSE_REASON_MAX, closeReferral } from '../../referrals/close.service.ts';
import { findReferral, type ReferralRow } from '../../records/referral.repository.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { errorList, formField, resolverOf, signedInUser } from './page.helpers.ts';

interface IdParams {
  id: string;
}

async function referralOrFail(ctx: RelayContext, id: string): Promise<ReferralRow> {
  const referral = await findReferral(ctx.db.kysely, id);
  if (!referral) throw new RelayError('not-found', 'No such referral');
  return referral;
}

function closePage(
  reply: FastifyReply,
  referral: ReferralRow,
  reason = '',
  errors: Record<string, string> = {},
) {
  const failed = Object.keys(errors).length > 0;
  // The reason typed may name the subject: the page is not kept by the browser.
  return reply.header('cache-control', 'no-store').page('safeguarding/close.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Close referral ${referral.reference}`,
    referral: { id: referral.id, reference: referral.reference, closedAt: referral.closed_at },
    reason,
    errors,
    errorList: errorList(errors, { reason: 'reason' }),
  });
}

/**
 * Closing a referral by hand, with a reason (safeguarding role): the one way besides an
 * acknowledgement, a route or a delivery to end the watchdog's watch of a referral.
 */
export function registerClosePages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: IdParams }>('/safeguarding/referrals/:id/close', async (request, reply) =>
    closePage(reply, await referralOrFail(ctx, request.params.id)),
  );

  app.post<{ Params: IdParams }>(
    '/safeguarding/referrals/:id/close',
    { preValidation: csrfCheck(app) },
    async (request, reply) => {
      const referral = await referralOrFail(ctx, request.params.id);
      const reason = formField(request.body, 'reason');
      if (referral.closed_at) return closePage(reply.code(409), referral, reason);
      const errors: Record<string, string> = {};
      if (!reason) errors.reason = 'Enter why the referral is closed';
      else if (reason.length > CLOSE_REASON_MAX)
        errors.reason = `Reason must be ${CLOSE_REASON_MAX.toLocaleString('en-GB')} characters or fewer`;
      if (errors.reason) return closePage(reply.code(422), referral, reason, errors);
      try {
        await closeReferral(ctx, referral.id, reason, resolverOf(signedInUser(request)));
      } catch (error) {
        if (!(error instanceof RelayError) || error.code !== 'state-conflict') throw error;
        return closePage(reply.code(409), await referralOrFail(ctx, referral.id), reason);
      }
      return reply.redirect(`/safeguarding/referrals/${encodeURIComponent(referral.id)}`, 303);
    },
  );
}
