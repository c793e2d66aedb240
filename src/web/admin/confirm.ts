import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminForm, errorList, formField } from './forms.ts';

export const REASON_MAX = 500;

/** What the confirmation page says about the thing about to be changed for good. */
export interface Confirmation {
  title: string;
  /** What happens, in a sentence or two. */
  consequence: string;
  button: string;
  cancelHref: string;
}

interface ConfirmedAction {
  /** e.g. /admin/users/:id/disable: GET asks, POST does. */
  path: string;
  describe(id: string): Promise<Confirmation>;
  act(request: FastifyRequest, id: string, reason: string): Promise<unknown>;
  done: string;
}

/**
 * A destructive admin action behind a page that says what will happen and asks why: one click on
 * the list only opens the page, and the POST refuses to act without a reason, which is audited.
 * Works without JavaScript; an unknown id answers 404 from describe().
 */
export function registerConfirmedAction(app: FastifyInstance, action: ConfirmedAction): void {
  const page = async (reply: FastifyReply, id: string, reason = '', error?: string) =>
    confirmPage(
      reply,
      await action.describe(id),
      action.path.replace(':id', encodeURIComponent(id)),
      reason,
      error,
    );
  app.get<{ Params: { id: string } }>(action.path, async (request, reply) => page(reply, request.params.id));
  app.post<{ Params: { id: string } }>(action.path, adminForm(app), async (request, reply) => {
    const reason = formField(request.body, 'reason');
    const problem = reasonProblem(reason);
    if (problem) return page(reply.code(422), request.params.id, reason, problem);
    await action.act(request, request.params.id, reason);
    return reply.redirect(action.done, 303);
  });
}

/** The page that says what will happen and asks why, with the reason's error beside it. */
export function confirmPage(
  reply: FastifyReply,
  confirmation: Confirmation,
  action: string,
  reason = '',
  error?: string,
) {
  const errors: Record<string, string> = error ? { reason: error } : {};
  return reply.page('admin/confirm.njk', {
    pageTitle: `${error ? 'Error: ' : ''}${confirmation.title}`,
    confirmation,
    action,
    reason,
    errors,
    errorList: errorList(errors),
  });
}

export function reasonProblem(reason: string): string | undefined {
  if (!reason) return 'Enter the reason';
  if (reason.length > REASON_MAX) return `Reason must be ${REASON_MAX} characters or fewer`;
  return undefined;
}
