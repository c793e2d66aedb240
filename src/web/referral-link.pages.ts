/**
 * `/referrals/{id}`: the "Open in the portal" link in every referral email. One address for every
 * reader, so it leads each person to the page their role has for that referral: the safeguarding
 * team's full view, the team inbox's detail, or the crew member's own referral. Signed out, the role
 * guard sends them to sign in and back here. A referral they may not see is "not found", the same
 * answer as an id that does not exist, so the link cannot be used to probe for referrals.
 */
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { maySee } from '../referrals/referral.access.ts';
import { findReferral, type ReferralRow } from '../records/referral.repository.ts';
import { requireRole } from './auth/guards.ts';
import type { User } from '../access/user.service.ts';

/** The page for this person and referral, or undefined when none of their roles may open it. */
async function pageFor(ctx: RelayContext, user: User, referral: ReferralRow): Promise<string | undefined> {
  const id = encodeURIComponent(referral.id);
  if (user.roles.includes('safeguarding')) return `/safeguarding/referrals/${id}`;
  if (!(await maySee(ctx.db.kysely, user, referral))) return undefined;
  // maySee granted it through one of the two remaining roles; a recipient's route decides first.
  if (user.roles.includes('recipient') && referral.raised_by_user !== user.id)
    return `/inbox/referrals/${id}`;
  return user.roles.includes('crew') ? `/crew/referrals/${id}` : `/inbox/referrals/${id}`;
}

export function registerReferralLink(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: { id: string } }>(
    '/referrals/:id',
    { preHandler: requireRole('safeguarding', 'recipient', 'crew') },
    async (request, reply) => {
      const user = request.user;
      const referral = user ? await findReferral(ctx.db.kysely, request.params.id) : undefined;
      const page = user && referral ? await pageFor(ctx, user, referral) : undefined;
      if (!page)
        throw new RelayError('not-found', 'There is no referral with that reference that you can see');
      return reply.redirect(page, 303);
    },
  );
}
