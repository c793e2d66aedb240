/**
 * The crew's pages: raise a referral (form → check your answers → send → confirmation), and follow
 * the referrals they raised. The form is kept as a server-side draft (saved as the crew member types
 * and on every Continue), so the check page is an address of its own: Back, a reload or a timed-out
 * session never loses the answers. Every post carries the CSRF token and is validated again in full
 * before intake. Posts from the form's script ask for JSON and get the same answers as data.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
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
import { loadProfile, rememberProfile } from './crew-profile.ts';
import { claimDraft, deleteDraft, findDraft, holdOrphanDraft, listDrafts, saveDraft } from './drafts.ts';
import { CREW_STATUS_LABELS, myReferrals } from './my-referrals.ts';
import { ACK_METHOD_LABELS, CHOICES, OUTCOME_LABELS, type FormValues } from './referral-form.fields.ts';
import { fieldErrors, type FieldError } from './referral-form.errors.ts';
import { SOURCE_SYSTEM, blankForm, hiddenFields, readForm, validateForm } from './referral-form.ts';

type IdParams = { Params: { id: string } };

const SERVICE_WORKER = readFileSync(new URL('../assets/crew-sw.js', import.meta.url), 'utf8');

function signedIn(request: FastifyRequest): User {
  // requireRole('crew') runs first on every route here, so a user is always present.
  if (!request.user) throw new RelayError('unauthenticated');
  return request.user;
}

/** The form's script posts with `Accept: application/json` and handles the answer itself. */
function wantsJson(request: FastifyRequest): boolean {
  return /application\/json/.test(request.headers.accept ?? '');
}

/** Pages holding a person's details must not linger in a shared tablet's cache. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

function draftUrl(id: string): string {
  return `/crew/referrals/drafts/${encodeURIComponent(id)}`;
}

interface FormState {
  /** When the server's draft was last saved (ms), so the form's script can tell a newer copy on the device. */
  savedAt?: number;
  /** A form with no saved draft: the script may restore unsent answers held on the device into it. */
  fresh?: boolean;
  notice?: string;
}

function formPage(reply: FastifyReply, values: FormValues, errors: FieldError[] = [], state: FormState = {}) {
  return noStore(reply).page('crew/new.njk', {
    pageTitle: `${errors.length > 0 ? 'Error: ' : ''}Raise a safeguarding referral`,
    f: { values, errors: Object.fromEntries(errors.map((e) => [e.id, e.message])) },
    errorList: errors.map((e) => ({ text: e.message, href: `#${e.href}` })),
    choices: CHOICES,
    ...state,
    pageScripts: ['crew-form.js'],
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

/** The referral this crew member already sent with that source reference, if any. */
async function sentAs(ctx: RelayContext, user: User, sourceReference: string) {
  const existing = await findBySource(ctx.db.kysely, SOURCE_SYSTEM, sourceReference);
  return existing?.raised_by_user === user.id ? existing : undefined;
}

/**
 * Saves the posted answers as this crew member's draft. A reference that is another person's draft,
 * or an already-sent referral's, gets a fresh one: nothing of theirs is touched, nothing sent is reopened.
 */
async function keepDraft(ctx: RelayContext, user: User, values: FormValues): Promise<FormValues> {
  if (!(await sentAs(ctx, user, values.sourceReference)) && (await saveDraft(ctx, user.id, values))) {
    return values;
  }
  const fresh = { ...values, sourceReference: readForm({}).sourceReference };
  await saveDraft(ctx, user.id, fresh);
  return fresh;
}

/**
 * The crew's form posts, signed out: the session timed out while the form was being filled in.
 * The answers are held (sealed, with no owner) and the sign-in page explains, then returns to them.
 */
function crewPost(ctx: RelayContext) {
  const guard = requireRole('crew');
  return async function heldOnTimeout(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (request.user) return guard.call(this, request, reply);
    if (wantsJson(request)) {
      return reply.code(401).send({ signIn: '/sign-in?reason=timeout' });
    }
    const token = await holdOrphanDraft(ctx, readForm(request.body));
    const next = encodeURIComponent(`/crew/referrals/drafts/claim/${token}`);
    return reply.redirect(`/sign-in?next=${next}&reason=timeout`, 303);
  };
}

export function registerCrewPages(app: FastifyInstance, ctx: RelayContext): void {
  const crew = { preHandler: requireRole('crew') };
  const crewForm = { preValidation: csrfCheck(app), preHandler: crewPost(ctx) };

  app.get('/crew/referrals/new', crew, async (request, reply) => {
    const user = signedIn(request);
    return formPage(reply, blankForm(user, await loadProfile(ctx, user.id), ctx.clock.now()), [], {
      fresh: true,
    });
  });

  // The service worker that keeps the form for a crew without signal. Served from /crew/ so that
  // its scope covers the crew's pages and nothing else; always revalidated, so an update is seen.
  app.get('/crew/sw.js', crew, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SERVICE_WORKER),
  );

  const proceed = async (request: FastifyRequest, reply: FastifyReply) => continueForm(ctx, request, reply);
  app.post('/crew/referrals/new', crewForm, proceed);
  app.post('/crew/referrals/check', crewForm, proceed);
  app.get('/crew/referrals/check', crew, async (_request, reply) =>
    reply.redirect('/crew/referrals/new', 303),
  );
  // "Change" on the check page: the answers go back to the draft, and the form opens on them.
  app.post('/crew/referrals/edit', crewForm, async (request, reply) => {
    const values = await keepDraft(ctx, signedIn(request), readForm(request.body));
    return reply.redirect(draftUrl(values.sourceReference), 303);
  });
  app.post('/crew/referrals/submit', crewForm, async (request, reply) => submit(ctx, request, reply));

  app.get<IdParams>('/crew/referrals/drafts/:id', crew, async (request, reply) => {
    const user = signedIn(request);
    const draft = await findDraft(ctx, user.id, request.params.id);
    if (draft) return formPage(reply, draft.values, [], { savedAt: Date.parse(draft.updatedAt) });
    const sent = await sentAs(ctx, user, request.params.id);
    if (sent) return reply.redirect(`/crew/referrals/${sent.id}/confirmation`, 303);
    // Never saved on the server (the signal or the session was lost first): a form under this
    // reference, into which the form's script restores what the device kept.
    const values = blankForm(user, await loadProfile(ctx, user.id), ctx.clock.now());
    values.sourceReference = readForm({ sourceReference: request.params.id }).sourceReference;
    return formPage(reply, values, [], {
      notice:
        'No draft was saved with Relay at this address. If this device kept your answers, they are filled in below; otherwise, start again here.',
    });
  });
  app.get<IdParams>('/crew/referrals/drafts/:id/check', crew, async (request, reply) => {
    const user = signedIn(request);
    const draft = await findDraft(ctx, user.id, request.params.id);
    if (!draft) return afterDraft(ctx, user, request.params.id, reply);
    return showCheck(ctx, draft.values, reply);
  });
  // The form's script saves as the crew member types; an answer with no page.
  app.post<IdParams>('/crew/referrals/drafts/:id', crewForm, async (request, reply) => {
    const values = await keepDraft(ctx, signedIn(request), readForm(request.body));
    return reply.code(200).send({ draft: values.sourceReference, savedAt: ctx.clock.now().toISOString() });
  });
  app.post<IdParams>('/crew/referrals/drafts/:id/delete', crewForm, async (request, reply) => {
    await deleteDraft(ctx, signedIn(request).id, request.params.id);
    return reply.redirect('/crew/referrals?deleted=draft', 303);
  });
  app.get<{ Params: { token: string } }>(
    '/crew/referrals/drafts/claim/:token',
    crew,
    async (request, reply) => {
      const id = await claimDraft(ctx, signedIn(request).id, request.params.token);
      if (!id) throw new RelayError('not-found', 'That draft has already been opened, or has expired');
      return reply.redirect(draftUrl(id), 303);
    },
  );

  app.get<IdParams>('/crew/referrals/:id/confirmation', crew, async (request, reply) => {
    const referral = await ownReferral(ctx, signedIn(request), request.params.id);
    const doc = await statusDocument(ctx, referral);
    return reply.page('crew/confirmation.njk', { pageTitle: `Referral ${doc.reference} sent`, doc });
  });

  app.get<{ Querystring: { page?: string; deleted?: string } }>(
    '/crew/referrals',
    crew,
    async (request, reply) => {
      const user = signedIn(request);
      const page = Number.parseInt(request.query.page ?? '1', 10);
      const result = await myReferrals(ctx, user.id, Number.isFinite(page) ? page : 1);
      const drafts = await listDrafts(ctx, user.id);
      return noStore(reply).page('crew/list.njk', {
        pageTitle: 'My referrals',
        result,
        drafts,
        deleted: request.query.deleted === 'draft',
      });
    },
  );

  app.get<IdParams>('/crew/referrals/:id', crew, async (request, reply) => showDetail(ctx, request, reply));
}

/** A draft address with no draft: sent already (Back after sending lands here), or gone. */
async function afterDraft(ctx: RelayContext, user: User, id: string, reply: FastifyReply) {
  const sent = await sentAs(ctx, user, id);
  if (sent) return reply.redirect(`/crew/referrals/${sent.id}/confirmation`, 303);
  throw new RelayError(
    'not-found',
    'There is no draft at this address: it was deleted, or not saved for 72 hours. Your saved drafts are listed under My referrals.',
  );
}

/** Continue: the answers are saved as a draft; valid ones go on to the check page at its own address. */
async function continueForm(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const values = await keepDraft(ctx, signedIn(request), readForm(request.body));
  const result = validateForm(values, ctx.clock.now());
  if (!result.ok) {
    if (wantsJson(request))
      return reply.code(422).send({ draft: values.sourceReference, errors: result.errors });
    return formPage(reply.code(422), values, result.errors);
  }
  const next = `${draftUrl(values.sourceReference)}/check`;
  if (wantsJson(request)) return reply.send({ draft: values.sourceReference, next });
  return reply.redirect(next, 303);
}

/** The check page for valid answers, carrying them in hidden fields; otherwise the form, with errors. */
async function showCheck(ctx: RelayContext, values: FormValues, reply: FastifyReply) {
  const result = validateForm(values, ctx.clock.now());
  if (!result.ok) return formPage(reply.code(422), values, result.errors);
  return noStore(reply).page('crew/check.njk', {
    pageTitle: 'Check your referral before sending it',
    hidden: hiddenFields(values),
    draftId: values.sourceReference,
    sections: checkSections(result.input),
    urgency: result.input.urgency,
    pageScripts: ['crew-form.js'],
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
    statusLabel: CREW_STATUS_LABELS[doc.status],
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

/**
 * Sends the draft; a repeat of the same draft (Send pressed twice, a resubmission, the form's script
 * retrying when the signal returns) finds the referral the first send made, by its source reference.
 */
async function submit(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const user = signedIn(request);
  const values = readForm(request.body);
  const result = validateForm(values, ctx.clock.now());
  if (!result.ok) {
    await keepDraft(ctx, user, values);
    if (wantsJson(request))
      return reply.code(422).send({ draft: values.sourceReference, errors: result.errors });
    return formPage(reply.code(422), values, result.errors);
  }
  try {
    const { id, created } = await intakeReferral(ctx, result.body, {
      actor: `user:${user.id}`,
      userId: user.id,
      sourceSystem: SOURCE_SYSTEM,
    });
    await deleteDraft(ctx, user.id, values.sourceReference);
    await rememberProfile(ctx, user.id, values);
    const confirmation = `/crew/referrals/${id}/confirmation`;
    if (wantsJson(request)) return reply.code(created ? 201 : 200).send({ id, confirmation });
    return reply.redirect(confirmation, 303);
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    // Time passes between the check page and the send, so intake's clock rules can still fail.
    if (error.code === 'validation-failed') {
      const errors = fieldErrors(error.errors ?? [], [], values);
      if (wantsJson(request)) return reply.code(422).send({ draft: values.sourceReference, errors });
      return formPage(reply.code(422), values, errors);
    }
    if (error.code === 'idempotency-conflict') {
      const existing = await sentAs(ctx, user, values.sourceReference);
      if (wantsJson(request))
        return reply
          .code(409)
          .send({ confirmation: existing && `/crew/referrals/${existing.id}/confirmation` });
      return reply.code(409).page('crew/already-sent.njk', {
        pageTitle: 'This referral has already been sent',
        existing,
      });
    }
    throw error;
  }
}
