import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { PERSONAL_FIELDS, unsealField } from '../../records/personal-data.ts';
import { viewReferral } from '../../referrals/referral.access.ts';
import { statusDocument } from '../../referrals/referral.document.ts';
import type { StatusDocument } from '../../referrals/referral.document.schema.ts';
import type { ReferralRow } from '../../records/referral.repository.ts';
import { deliveryState, escalationReason, triageReason } from './labels.ts';
import { namesIn, signedInUser, type Names } from './page.helpers.ts';
import { attemptsOf } from './search.queries.ts';
import { readableTimeline } from '../timeline.ts';
import { FAILURE_REASON_TEXT, failureReason } from '../../delivery/failure-reason.ts';

/**
 * GET /safeguarding/referrals/:id (id or reference): everything about one referral. It shows the
 * subject's personal data, so it opens the referral through viewReferral, which audits the view.
 */
export function registerReferralPage(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: { id: string } }>('/safeguarding/referrals/:id', async (request, reply) => {
    const user = signedInUser(request);
    const { referral, payload } = await viewReferral(ctx, user, request.params.id, 'safeguarding');
    const doc = await statusDocument(ctx, referral);
    const names = await namesFor(ctx, referral);
    // The subject's personal data: not kept by the browser.
    return reply.header('cache-control', 'no-store').page('safeguarding/referral.njk', {
      pageTitle: `Referral ${doc.reference}`,
      payload,
      doc,
      closedByHand: closedByHand(ctx, referral),
      ...(await progressView(ctx, doc, names)),
    });
  });
}

/** Who closed it by hand and why (the reason decrypted for this page only); undefined otherwise. */
function closedByHand(ctx: RelayContext, referral: ReferralRow) {
  if (!referral.closed_by || !referral.closed_at) return undefined;
  const reason = unsealField(
    ctx.config.dataKeys,
    PERSONAL_FIELDS.closeReason,
    referral.id,
    referral.close_reason,
  );
  return {
    by: referral.closed_by,
    at: referral.closed_at,
    reason: reason ?? 'removed at the end of the retention period',
  };
}

/** The directory version the referral was routed with, or today's for one never routed. */
async function namesFor(ctx: RelayContext, referral: ReferralRow): Promise<Names> {
  const directory = referral.directory_version
    ? await ctx.directories.version(referral.directory_version)
    : (await ctx.directories.current())?.directory;
  return namesIn(directory);
}

async function progressView(ctx: RelayContext, doc: StatusDocument, names: Names) {
  const attempts = await attemptsOf(
    ctx.db.kysely,
    doc.deliveries.map((d) => d.id),
  );
  return {
    deliveries: doc.deliveries.map((d) => ({
      ...d,
      teamName: names.teamName(d.team),
      stateText: deliveryState(d.state),
      reasonText: lastErrorReason(d.lastError),
      attemptList: attempts.filter((a) => a.delivery_id === d.id),
    })),
    triage: doc.triage.map((t) => ({ ...t, reasonText: triageReason(t.reason) })),
    acknowledgements: doc.acknowledgements.map((a) => ({
      ...a,
      teamName: names.teamName(a.team),
      coverForName: a.coverFor ? names.teamName(a.coverFor) : undefined,
    })),
    escalations: doc.escalations.map((e) => ({
      ...e,
      teamName: e.team ? names.teamName(e.team) : 'Not about one team',
      reasonText: escalationReason(e.reason),
    })),
    timeline: await readableTimeline(ctx, doc, names),
  };
}

/** The failure's class in words (TLS, authentication, DNS…), so the page says why before the raw reply. */
function lastErrorReason(lastError: string | null): string | undefined {
  const reason = failureReason(lastError);
  return reason ? FAILURE_REASON_TEXT[reason] : undefined;
}
