import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { appendAudit } from '../../records/audit.ts';
import {
  caseHistory,
  caseNotes,
  findCase,
  findReview,
  reviewCases,
  reviewers,
  userNames,
  type CaseListing,
  type Person,
} from '../../governance/review.queries.ts';
import { updateCase } from '../../governance/review.service.ts';
import type { User } from '../../access/user.service.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { errorList, signedInUser } from './page.helpers.ts';
import {
  CASE_FIELD_IDS,
  checkCaseForm,
  errorsFromService,
  readCaseForm,
  reviewActor,
  type CaseForm,
  type FieldErrors,
} from './reviews.forms.ts';
import { caseView, historyLine, periodText, reviewerItems, statusItems } from './reviews.view.ts';

interface CaseParams {
  id: string;
  caseId: string;
}

/** One case of a review: its status, reviewer, notes (append-only) and audited history. */
export function registerReviewCasePages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: CaseParams; Querystring: { saved?: string } }>(
    '/safeguarding/reviews/:id/cases/:caseId',
    async (request, reply) =>
      casePage(ctx, reply, signedInUser(request), request.params, { saved: request.query.saved === '1' }),
  );

  app.post<{ Params: CaseParams }>(
    '/safeguarding/reviews/:id/cases/:caseId',
    { preValidation: csrfCheck(app) },
    async (request, reply) => {
      const { id, caseId } = request.params;
      const user = signedInUser(request);
      const form = readCaseForm(request.body);
      const current = await findCase(ctx.db.kysely, id, caseId);
      const people = await reviewers(ctx.db.kysely);
      const allowed = new Set([
        ...people.map((p) => p.id),
        ...(current.reviewerId ? [current.reviewerId] : []),
      ]);
      const errors = checkCaseForm(form, allowed);
      if (Object.keys(errors).length > 0)
        return casePage(ctx, reply.code(422), user, request.params, {}, form, errors);
      try {
        await updateCase(
          ctx,
          id,
          caseId,
          {
            status: form.status,
            reviewerId: form.reviewer === undefined ? undefined : form.reviewer || null,
            note: form.note,
          },
          reviewActor(user),
        );
      } catch (error) {
        if (!(error instanceof RelayError) || error.code !== 'validation-failed') throw error;
        const serviceErrors = errorsFromService(error, CASE_FIELD_IDS);
        return casePage(ctx, reply.code(422), user, request.params, {}, form, serviceErrors);
      }
      const base = `/safeguarding/reviews/${encodeURIComponent(id)}/cases/${encodeURIComponent(caseId)}`;
      return reply.redirect(`${base}?saved=1`, 303);
    },
  );
}

/**
 * Notes may hold personal data (what a reviewer found about a person), so each view of a case is
 * written to the audit log, as a view of a referral is.
 */
async function auditView(ctx: RelayContext, user: User, reviewId: string, found: CaseListing) {
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, ctx.clock.now(), {
      actor: `user:${user.id}`,
      action: 'review.case-viewed',
      entityType: 'review_case',
      entityId: found.id,
      detail: { review: reviewId, reference: found.reference },
    }),
  );
}

/** The case page, with the form as submitted (and its errors) when a save was refused. */
async function casePage(
  ctx: RelayContext,
  reply: FastifyReply,
  user: User,
  params: CaseParams,
  notices: { saved?: boolean },
  submitted?: CaseForm,
  errors: FieldErrors = {},
) {
  const db = ctx.db.kysely;
  const review = await findReview(db, params.id);
  const cases = await reviewCases(db, params.id);
  const index = cases.findIndex((c) => c.id === params.caseId);
  const found = cases[index];
  if (!found) throw new RelayError('not-found', 'No such case in this review');
  await auditView(ctx, user, review.id, found);
  const history = await caseHistory(db, found.id);
  const names = await userNames(
    db,
    history
      .flatMap((e) => [e.actor.replace(/^user:/, ''), e.detail.reviewerFrom, e.detail.reviewerTo])
      .filter((x): x is string => typeof x === 'string'),
  );
  const form = submitted ?? { status: found.status, reviewer: found.reviewerId ?? '', note: '' };
  const reviewer = form.reviewer ?? found.reviewerId ?? '';
  const failed = Object.keys(errors).length > 0;
  return reply.page('reviews/case.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Case ${found.reference}`,
    review: { ...review, period: periodText(review) },
    item: caseView(found),
    previous: cases[index - 1],
    next: cases[index + 1],
    position: index + 1,
    total: cases.length,
    notes: await caseNotes(db, ctx.config.dataKeys, found.id),
    history: history.map((e) => historyLine(e, names)).reverse(),
    form,
    statusItems: statusItems(form.status),
    reviewerItems: reviewerItems(await reviewersFor(ctx, found), reviewer, 'Not assigned'),
    notices,
    errors,
    errorList: errorList(errors, CASE_FIELD_IDS),
  });
}

/** The team's reviewers, plus the case's own reviewer if they have since left it, so saving keeps them. */
async function reviewersFor(ctx: RelayContext, found: CaseListing): Promise<Person[]> {
  const people = await reviewers(ctx.db.kysely);
  if (!found.reviewerId || people.some((p) => p.id === found.reviewerId)) return people;
  return [...people, { id: found.reviewerId, name: found.reviewerName ?? found.reviewerId }];
}
