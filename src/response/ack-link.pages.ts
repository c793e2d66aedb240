import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { acknowledgeDelivery } from './acknowledgement.service.ts';
import { lookUpAckLink, type AckLinkProblem, type AckLinkTarget, type PriorAck } from './ack-link.ts';
import { acknowledgeTestAlert } from './test-alert.ack.ts';

interface LinkParams {
  token: string;
}

const MAX_FIELD = 200;

/** The pages' answers to what can go wrong with a link: each tells the reader what to do next. */
const PROBLEMS: Record<
  AckLinkProblem | 'csrf' | 'form' | 'unavailable' | 'error',
  { status: number; title: string }
> = {
  invalid: { status: 400, title: 'This link is not valid' },
  expired: { status: 410, title: 'This link has expired' },
  unknown: { status: 404, title: 'We cannot find what this link is for' },
  csrf: { status: 403, title: 'Your acknowledgement was not sent' },
  form: { status: 400, title: 'Your acknowledgement could not be read' },
  unavailable: { status: 503, title: 'Sorry, the service is unavailable' },
  error: { status: 500, title: 'Sorry, there is a problem with the service' },
};

function problemPage(reply: FastifyReply, problem: keyof typeof PROBLEMS, retryUrl?: string) {
  const { status, title } = PROBLEMS[problem];
  return reply.code(status).page('ack/problem.njk', { pageTitle: title, title, problem, retryUrl });
}

function alreadyPage(reply: FastifyReply, target: AckLinkTarget, prior: PriorAck) {
  return reply.page('ack/already.njk', { pageTitle: 'Already acknowledged', target, prior });
}

interface FormState {
  values?: { fullName: string; role: string };
  error?: string;
}

function confirmPage(reply: FastifyReply, token: string, target: AckLinkTarget, form: FormState = {}) {
  return reply.page('ack/confirm.njk', {
    pageTitle: form.error ? 'Error: Acknowledge receipt' : 'Acknowledge receipt',
    target,
    action: `/ack/${encodeURIComponent(token)}`,
    csrfToken: reply.generateCsrf(),
    values: form.values ?? { fullName: '', role: '' },
    error: form.error,
  });
}

function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

function readForm(body: unknown): FormState & { values: { fullName: string; role: string } } {
  const values = { fullName: field(body, 'fullName'), role: field(body, 'role') };
  if (!values.fullName) return { values, error: 'Enter your full name' };
  if (values.fullName.length > MAX_FIELD || values.role.length > MAX_FIELD)
    return { values, error: `Your name and role must each be ${MAX_FIELD} characters or fewer` };
  return { values };
}

/** Failures on these pages become pages too, each saying that nothing changed and what to do. */
function renderPageError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.code?.startsWith('FST_CSRF')) return problemPage(reply, 'csrf', request.url);
  if (error instanceof RelayError && error.code === 'not-found') return problemPage(reply, 'unknown');
  if (error instanceof RelayError && error.code === 'service-unavailable') {
    reply.header('retry-after', String(error.retryAfterSeconds ?? 5));
    return problemPage(reply, 'unavailable');
  }
  if ((error.statusCode ?? 500) < 500 && !(error instanceof RelayError)) return problemPage(reply, 'form');
  request.log.error({ err: { type: error.name, code: error.code, stack: error.stack } }, 'ack page error');
  return problemPage(reply, 'error');
}

/**
 * GET and POST /ack/:token. No login: the signed link is the authority, so these pages show only
 * what the minimal email already carries, never the subject's personal data.
 */
export function registerAckLinkPages(app: FastifyInstance, ctx: RelayContext): void {
  void app.register(async (pages) => {
    // These are pages for people, not API clients: every failure is an HTML page that says what to do.
    pages.setErrorHandler(renderPageError);

    // Mail scanners and link previewers follow links, so a GET only shows the page and never acknowledges.
    pages.get<{ Params: LinkParams }>('/ack/:token', async (request, reply) => {
      const found = await lookUpAckLink(ctx, request.params.token);
      if (!found.ok) return problemPage(reply, found.problem);
      const { target } = found;
      if (target.acknowledged) return alreadyPage(reply, target, target.acknowledged);
      return confirmPage(reply, request.params.token, target);
    });

    pages.post<{ Params: LinkParams }>(
      '/ack/:token',
      { preHandler: pages.csrfProtection },
      async (request, reply) => {
        const found = await lookUpAckLink(ctx, request.params.token);
        if (!found.ok) return problemPage(reply, found.problem);
        const { target } = found;
        if (target.acknowledged) return alreadyPage(reply, target, target.acknowledged);
        const form = readForm(request.body);
        if (form.error) return confirmPage(reply.code(422), request.params.token, target, form);
        const { fullName, role } = form.values;
        const name = role ? `${fullName} (${role})` : fullName;
        const by = { name, actor: `ack-link:${target.deliveryId}` };
        const result =
          target.kind === 'test-alert'
            ? await acknowledgeTestAlert(ctx, target.deliveryId, by)
            : await acknowledgeDelivery(ctx, target.deliveryId, { ...by, method: 'link' });
        if (!result.acknowledged)
          return alreadyPage(reply, target, { at: result.acknowledgedAt, by: result.by });
        return reply.page('ack/done.njk', {
          pageTitle: 'Acknowledged',
          target,
          prior: { at: result.acknowledgedAt, by: result.by },
        });
      },
    );
  });
}
