import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RelayError, type FieldIssue } from '../../errors.ts';
import { csrfCheck } from '../../access/csrf.ts';

/** Every admin form carries its CSRF token; the admin area's guard (src/web/pages.ts) covers every route. */
export function adminForm(app: FastifyInstance) {
  return { preValidation: csrfCheck(app) };
}

/** The audit actor for the signed-in admin: an id, never a name. */
export function actorOf(request: FastifyRequest): string {
  return `user:${request.user?.id ?? 'unknown'}`;
}

function raw(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

/** One text field of a parsed form, trimmed; a repeated field gives its first value. */
export function formField(body: unknown, name: string): string {
  const value = raw(body, name);
  const first = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof first === 'string' ? first.trim() : '';
}

/** Every value of a field that may repeat (checkboxes), blank ones dropped. */
export function formList(body: unknown, name: string): string[] {
  const value = raw(body, name);
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => (typeof v === 'string' && v.trim() ? [v.trim()] : []));
}

export type FieldErrors = Record<string, string>;

/**
 * Field issues as errors keyed by the form field's id, the first per field; an issue whose path no
 * field owns is kept under its own path, so the summary still shows it.
 */
export function errorsFor(issues: readonly FieldIssue[], fieldFor: (path: string) => string | undefined) {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const id = fieldFor(issue.path);
    if (id) errors[id] ??= issue.message;
    else errors[issue.path || 'form'] ??= issue.path ? `${issue.path}: ${issue.message}` : issue.message;
  }
  return errors;
}

/** The NHS error summary's list: each message links to its field. */
export function errorList(errors: FieldErrors): { text: string; href: string }[] {
  return Object.entries(errors).map(([id, text]) => ({ text, href: `#${id}` }));
}

export function validationIssues(error: unknown): FieldIssue[] | undefined {
  return error instanceof RelayError && error.code === 'validation-failed' ? (error.errors ?? []) : undefined;
}

/** A secret shown once (a password, an API key) must not be kept by the browser or a proxy. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

/**
 * Makes a change from a submitted form. When the change refuses its input, the form is shown again
 * with 422 and each problem beside its field (`fieldOf` maps the change's paths to the form's
 * fields); any other failure is thrown on. Otherwise `done` answers with the result.
 */
export async function submitForm<T>(
  reply: FastifyReply,
  change: () => Promise<T>,
  fieldOf: Readonly<Record<string, string>>,
  answer: { done: (result: T) => unknown; again: (reply: FastifyReply, errors: FieldErrors) => unknown },
): Promise<unknown> {
  let result: T;
  try {
    result = await change();
  } catch (error) {
    const issues = validationIssues(error);
    if (!issues) throw error;
    return answer.again(
      reply.code(422),
      errorsFor(issues, (path) => fieldOf[path]),
    );
  }
  return answer.done(result);
}
