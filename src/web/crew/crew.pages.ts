/**
 * The crew's pages: raise a referral (form → check your answers → send → confirmation), and follow
 * the referrals they raised. The draft travels in the check page's hidden fields, not on the server,
 * so every post carries the CSRF token and is validated again in full before intake.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { viewReferral } from '../../referrals/referral.access.ts';
import { statusDocument } from '../../referrals/referral.document.ts';
import { findBySource, findReferral, type ReferralRow } from '../../records/referral.repository.ts';
import { intakeReferral } from '../../referrals/referral.service.ts';
import type { StatusDocument } from '../../referrals/referral.document.schema.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { requireRole } from '../auth/guards.ts';
import type { User } from '../../access/user.service.ts';
import { checkSections } from './check-answers.ts';
import { myReferrals } from './my-referrals.ts';
import { ACK_METHOD_LABELS, CHOICES, OUTCOME_LABELS, type FormValues } from './referral-form.fields.ts';
import { fieldErrors, type FieldError } from './referral-form.errors.ts';
import { SOURCE_SYSTEM, blankForm, hiddenFields, readForm, validateForm } from './referral-form.ts';

type IdParams = { Params: { id: string } };

function signedIn(request: FastifyRequest): User {
  // requireRole('crew') runs first on every route here, so a user is always present.
  if (!request.user) throw new RelayError('unauthenticated');
  return request.user;
}

/** Pages holding a person's details must not linger in a shared tablet's cache. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

function formPage(reply: FastifyReply, values: FormValues, errors: FieldError[] = []) {
  return noStore(reply).page('crew/new.njk', {
    pageTitle: `${errors.length > 0 ? 'Error: ' : ''}Raise a safeguarding referral`,
    f: { values, errors: Object.fromEntries(errors.map((e) => [e.id, e.message])) },
    errorList: errors.map((e) => ({ text: e.message, href: `#${e.href}` })),
    choices: CHOICES,
  });
}

/** A referral this crew member raised, or "not found": another crew member's id reveals nothing. */
async function ownReferral(ctx: RelayContext, user: User, id: string): Promise<ReferralRow> {
  const referral = await findReferral(ctx.db.kysely, id);
  if (!referral || referral.raised_by_user !== user.id) {
    throw new RelayError('not-found', 'You did not raise a referral with that reference');
  }
  return referral;
}

export function registerCrewPages(app: FastifyInstance, ctx: RelayContext): void {
  const crew = { preHandler: requireRole('crew') };
  const crewForm = { preValidation: csrfCheck(app), preHandler: requireRole('crew') };

  app.get('/crew/referrals/new', crew, async (request, reply) =>
    formPage(reply, blankForm(signedIn(request))),
  );

  const check = async (request: FastifyRequest, reply: FastifyReply) => showCheck(ctx, request, reply);
  app.post('/crew/referrals/new', crewForm, check);
  app.post('/crew/referrals/check', crewForm, check);
  // The draft is never stored, so there is nothing to show at this address without a post.
  app.get('/crew/referrals/check', crew, async (_request, reply) =>
    reply.redirect('/crew/referrals/new', 303),
  );
  app.post('/crew/referrals/edit', crewForm, async (request, reply) =>
    formPage(reply, readForm(request.body)),
  );
  app.post('/crew/referrals/submit', crewForm, async (request, reply) => submit(ctx, request, reply));

  app.get<IdParams>('/crew/referrals/:id/confirmation', crew, async (request, reply) => {
    const referral = await ownReferral(ctx, signedIn(request), request.params.id);
    const doc = await statusDocument(ctx, referral);
    return reply.page('crew/confirmation.njk', { pageTitle: `Referral ${doc.reference} sent`, doc });
  });

  app.get<{ Querystring: { page?: string } }>('/crew/referrals', crew, async (request, reply) => {
    const page = Number.parseInt(request.query.page ?? '1', 10);
    const result = await myReferrals(ctx, signedIn(request).id, Number.isFinite(page) ? page : 1);
    return reply.page('crew/list.njk', { pageTitle: 'My referrals', result });
  });

  app.get<IdParams>('/crew/referrals/:id', crew, async (request, reply) => showDetail(ctx, request, reply));
}

/** Valid answers go to the check page, carried in its hidden fields; otherwise the form again, with errors. */
async function showCheck(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const values = readForm(request.body);
  const result = validateForm(values, ctx.clock.now());
  if (!result.ok) return formPage(reply.code(422), values, result.errors);
  return noStore(reply).page('crew/check.njk', {
    pageTitle: 'Check your referral before sending it',
    hidden: hiddenFields(values),
    sections: checkSections(result.input),
    urgency: result.input.urgency,
  });
}

/** One of my referrals; opening its content is an audited view of personal data. */
async function showDetail(ctx: RelayContext, request: FastifyRequest<IdParams>, reply: FastifyReply) {
  const user = signedIn(request);
  // Checked first so that a guessed id of another crew member's referral is not even audited as a view.
  await ownReferral(ctx, user, request.params.id);
  const { referral, payload } = await viewReferral(ctx, user, request.params.id, 'crew-view');
  const doc = await statusDocument(ctx, referral);
  return noStore(reply).page('crew/detail.njk', {
    pageTitle: `Referral ${doc.reference}`,
    doc,
    payload,
    ...teamFacts(doc),
  });
}

/** Acknowledgements and outcomes by team name, for the detail page's lists. */
function teamFacts(doc: StatusDocument) {
  const name = (team: string | null) => doc.routes.find((r) => r.team === team)?.teamName ?? team ?? '';
  return {
    acknowledgements: doc.acknowledgements.map((a) => ({
      ...a,
      teamName: name(a.team),
      method: ACK_METHOD_LABELS[a.method] ?? a.method,
    })),
    outcomes: doc.routes
      .filter((r) => r.outcome !== null)
      .map((r) => ({ teamName: r.teamName, outcome: OUTCOME_LABELS[r.outcome ?? ''] ?? r.outcome })),
  };
}

/** Sends the draft; a repeat of the same draft finds the referral the first send made. */
async function submit(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const user = signedIn(request);
  const values = readForm(request.body);
  const result = validateForm(values, ctx.clock.now());
  if (!result.ok) return formPage(reply.code(422), values, result.errors);
  try {
    const { id } = await intakeReferral(ctx, result.body, {
      actor: `user:${user.id}`,
      userId: user.id,
      sourceSystem: SOURCE_SYSTEM,
    });
    return reply.redirect(`/crew/referrals/${id}/confirmation`, 303);
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    // Time passes between the check page and the send, so intake's clock rules can still fail.
    if (error.code === 'validation-failed') {
      return formPage(reply.code(422), values, fieldErrors(error.errors ?? [], [], values));
    }
    if (error.code === 'idempotency-conflict') {
      const existing = await findBySource(ctx.db.kysely, SOURCE_SYSTEM, values.sourceReference);
      return reply.code(409).page('crew/already-sent.njk', {
        pageTitle: 'This referral has already been sent',
        existing: existing?.raised_by_user === user.id ? existing : undefined,
      });
    }
    throw error;
  }
}
