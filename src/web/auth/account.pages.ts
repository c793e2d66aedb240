import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { appendAudit } from '../../records/audit.ts';
import { startPage } from '../navigation.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { requireRole } from './guards.ts';
import { hashPassword, verifyPassword } from '../../access/password.ts';
import { passwordProblem } from '../../access/password.policy.ts';
import { endOtherSessions } from '../../access/session.service.ts';
import { ROLES, type User } from '../../access/user.service.ts';

type Errors = Record<string, string>;

function passwordPage(reply: FastifyReply, user: User, errors: Errors = {}) {
  return reply.page('account/password.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Change your password`,
    mustChange: user.mustChangePassword === true,
    errors,
    errorList: Object.entries(errors).map(([id, text]) => ({ text, href: `#${id}` })),
  });
}

function formValue(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

/** What is wrong with the form, field by field (the current password is checked last, and slowly). */
async function problems(ctx: RelayContext, user: User, body: unknown): Promise<Errors> {
  const current = formValue(body, 'current');
  const chosen = formValue(body, 'password');
  const confirm = formValue(body, 'confirm');
  const errors: Errors = {};
  if (!current) errors.current = 'Enter your current password';
  const weak = chosen ? passwordProblem(chosen, user.email) : 'Enter a new password';
  if (weak) errors.password = weak;
  else if (chosen === current) errors.password = 'Choose a password different from your current one';
  if (!weak && confirm !== chosen) errors.confirm = 'Enter the same new password again';
  if (current) {
    const row = await ctx.db.kysely
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    if (!(await verifyPassword(current, row.password_hash)))
      errors.current = 'Your current password is wrong';
  }
  return errors;
}

/**
 * /account/password: anyone signed in may change their password; after an admin's reset they must,
 * before any other page. The change ends the person's other sessions (a reset usually means someone
 * else may have known the old one) and is audited.
 */
export function registerAccountPages(app: FastifyInstance, ctx: RelayContext, sessionCookie: string): void {
  const signedIn = requireRole(...ROLES);

  app.get('/account/password', { preHandler: signedIn }, async (request, reply) =>
    passwordPage(reply, request.user as User),
  );

  app.post(
    '/account/password',
    { preHandler: signedIn, preValidation: csrfCheck(app) },
    async (request, reply) => {
      const user = request.user as User;
      const errors = await problems(ctx, user, request.body);
      if (Object.keys(errors).length > 0) return passwordPage(reply.code(422), user, errors);
      const hash = await hashPassword(formValue(request.body, 'password'));
      const now = ctx.clock.now();
      await ctx.db.kysely.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ password_hash: hash, must_change_password: 0 })
          .where('id', '=', user.id)
          .execute();
        await endOtherSessions(trx, user.id, request.cookies?.[sessionCookie] ?? '');
        await appendAudit(trx, now, {
          actor: `user:${user.id}`,
          action: 'user.password-changed',
          entityType: 'user',
          entityId: user.id,
        });
      });
      return reply.redirect(startPage(user), 303);
    },
  );
}
