import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import {
  findReview,
  listReviews,
  reviewCases,
  reviewers,
  reviewProgress,
} from '../../governance/review.queries.ts';
import { assignReviewer, createReview } from '../../governance/review.service.ts';
import { csrfCheck } from '../../access/csrf.ts';
import type { User } from '../../access/user.service.ts';
import { errorList, formField, signedInUser } from './page.helpers.ts';
import { registerReviewCasePages } from './reviews.case.pages.ts';
import { registerReviewExports } from './reviews.export.pages.ts';
import {
  ASSIGN_FIELD_IDS,
  checkNewReviewForm,
  errorsFromService,
  formList,
  NEW_REVIEW_FIELD_IDS,
  readNewReviewForm,
  reviewActor,
  type FieldErrors,
  type NewReviewForm,
} from './reviews.forms.ts';
import { caseView, conditionItems, reviewerItems, reviewView } from './reviews.view.ts';

interface IdParams {
  id: string;
}

/**
 * Incident reviews (docs/operations.md), read: the list, each review's progress and cases, and its
 * reports. For the safeguarding team and for auditors, who read reports (and no referral content:
 * the pages and reports name cases by reference). An auditor's pages have no forms; the case pages,
 * with their notes, stay the safeguarding team's.
 */
export function registerReviewReports(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/safeguarding/reviews', async (request, reply) =>
    listPage(ctx, reply, readOnly(signedInUser(request))),
  );
  app.get<{ Params: IdParams; Querystring: { created?: string; assigned?: string } }>(
    '/safeguarding/reviews/:id',
    async (request, reply) => {
      const assigned = Number(request.query.assigned);
      return reviewPage(ctx, reply, request.params.id, {
        readOnly: readOnly(signedInUser(request)),
        created: request.query.created === '1',
        assigned: Number.isInteger(assigned) && assigned >= 0 ? assigned : undefined,
      });
    },
  );
  registerReviewExports(app, ctx);
}

/** Incident reviews, changed: create, assign and each case's pages, for the safeguarding team only. */
export function registerReviewPages(app: FastifyInstance, ctx: RelayContext): void {
  const post = { preValidation: csrfCheck(app) };

  app.post('/safeguarding/reviews', post, async (request, reply) => {
    const form = readNewReviewForm(request.body);
    const checked = checkNewReviewForm(form);
    if (!checked.from || !checked.to) return listPage(ctx, reply.code(422), false, form, checked.errors);
    try {
      const review = await createReview(
        ctx,
        { title: form.title, from: checked.from, to: checked.to, conditions: form.conditions },
        reviewActor(signedInUser(request)),
      );
      return reply.redirect(`/safeguarding/reviews/${encodeURIComponent(review.id)}?created=1`, 303);
    } catch (error) {
      if (!(error instanceof RelayError) || error.code !== 'validation-failed') throw error;
      return listPage(ctx, reply.code(422), false, form, errorsFromService(error, NEW_REVIEW_FIELD_IDS));
    }
  });

  app.post<{ Params: IdParams }>('/safeguarding/reviews/:id/assign', post, async (request, reply) =>
    assign(ctx, request, reply),
  );

  registerReviewCasePages(app, ctx);
}

/** An auditor who is not also on the safeguarding team reads the reviews without their forms. */
function readOnly(user: User): boolean {
  return !user.roles.includes('safeguarding');
}

async function listPage(
  ctx: RelayContext,
  reply: FastifyReply,
  readOnly: boolean,
  form: NewReviewForm = { title: '', from: '', to: '', conditions: [] },
  errors: FieldErrors = {},
) {
  const reviews = await listReviews(ctx.db.kysely);
  const failed = Object.keys(errors).length > 0;
  return reply.page('reviews/list.njk', {
    readOnly,
    pageTitle: `${failed ? 'Error: ' : ''}Incident reviews`,
    reviews: reviews.map(({ review, progress }) => reviewView(review, progress)),
    form,
    conditionItems: conditionItems(form.conditions),
    errors,
    errorList: errorList(errors, NEW_REVIEW_FIELD_IDS),
  });
}

async function reviewPage(
  ctx: RelayContext,
  reply: FastifyReply,
  id: string,
  notices: {
    readOnly?: boolean;
    created?: boolean;
    assigned?: number;
    selected?: string[];
    reviewer?: string;
  },
  errors: FieldErrors = {},
) {
  const db = ctx.db.kysely;
  const review = await findReview(db, id);
  const cases = await reviewCases(db, id);
  const failed = Object.keys(errors).length > 0;
  return reply.page('reviews/review.njk', {
    readOnly: notices.readOnly === true,
    pageTitle: `${failed ? 'Error: ' : ''}${review.title}`,
    review: reviewView(review, await reviewProgress(db, id)),
    cases: cases.map((c) => ({ ...caseView(c), selected: notices.selected?.includes(c.id) ?? false })),
    unassigned: cases.filter((c) => c.reviewerId === null).length,
    reviewerItems: [
      ...reviewerItems(await reviewers(db), notices.reviewer ?? null, 'Choose a reviewer'),
      { value: 'nobody', text: 'Nobody (take the reviewer off)', selected: notices.reviewer === 'nobody' },
    ],
    notices,
    errors,
    errorList: errorList(errors, ASSIGN_FIELD_IDS),
  });
}

/**
 * Bulk assignment: the ticked cases, or every case still without a reviewer. "Nobody" takes the
 * reviewer off the ticked cases. Each case's change is audited on its own.
 */
async function assign(ctx: RelayContext, request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply) {
  const id = request.params.id;
  await findReview(ctx.db.kysely, id);
  const reviewer = formField(request.body, 'reviewer');
  const scope = formField(request.body, 'scope') === 'unassigned' ? 'unassigned' : 'selected';
  const selected = formList(request.body, 'cases');
  const people = await reviewers(ctx.db.kysely);
  const errors: FieldErrors = {};
  const unassigning = reviewer === 'nobody';
  if (!reviewer) errors.reviewer = 'Choose a reviewer';
  else if (!unassigning && !people.some((p) => p.id === reviewer))
    errors.reviewer = 'Choose a reviewer from the safeguarding team';
  if (scope === 'selected' && selected.length === 0) errors.cases = 'Select the cases to assign';
  if (unassigning && scope === 'unassigned') errors.reviewer = 'Choose a reviewer for the unassigned cases';
  if (Object.keys(errors).length > 0) {
    return reviewPage(ctx, reply.code(422), id, { selected, reviewer }, errors);
  }
  const changed = await assignReviewer(
    ctx,
    id,
    scope === 'unassigned' ? 'unassigned' : selected,
    unassigning ? null : reviewer,
    reviewActor(signedInUser(request)),
  );
  return reply.redirect(`/safeguarding/reviews/${encodeURIComponent(id)}?assigned=${changed}`, 303);
}
