import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { createUser, ROLES } from '../../access/user.service.ts';
import {
  actorOf,
  adminForm,
  adminPage,
  errorList,
  errorsFor,
  formField,
  formList,
  noStore,
  validationIssues,
  type FieldErrors,
} from './forms.ts';
import { currentDirectory, teamExistsIn, teamItems } from './teams.ts';
import { changeUser, listUsers, resetPassword, type UserAction } from './users.admin.ts';

const ROLE_HINTS: Record<(typeof ROLES)[number], string> = {
  crew: 'Raises referrals and sees their own',
  safeguarding: 'Sees every referral; works escalations and triage',
  recipient: 'A local-authority team member: sees and acknowledges their team’s referrals',
  admin: 'Users, directory and API keys; no referral content',
  auditor: 'Reads the audit log and reports',
};

const FIELD_OF_PATH: Record<string, string> = { email: 'email', role: 'roles', team: 'team' };

interface NewUserForm {
  email: string;
  name: string;
  roles: string[];
  team: string;
}

async function newUserPage(
  reply: FastifyReply,
  ctx: RelayContext,
  form: NewUserForm,
  errors: FieldErrors = {},
) {
  const { directory } = await currentDirectory(ctx);
  return reply.page('admin/user-new.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Add a user`,
    form,
    errors,
    errorList: errorList(errors),
    roleItems: ROLES.map((role) => ({
      value: role,
      text: role,
      hint: { text: ROLE_HINTS[role] },
      checked: form.roles.includes(role),
    })),
    teamItems: teamItems(directory, form.team, 'No team'),
  });
}

/** Creates the account and shows its password once; a form with problems comes back with them beside the fields. */
async function addUser(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const form: NewUserForm = {
    email: formField(request.body, 'email'),
    name: formField(request.body, 'name'),
    roles: formList(request.body, 'roles'),
    team: formField(request.body, 'team'),
  };
  const { directory } = await currentDirectory(ctx);
  const input = {
    email: form.email,
    name: form.name,
    roles: form.roles,
    teams: form.team ? [form.team] : [],
  };
  try {
    const created = await createUser(
      ctx.db.kysely,
      ctx.clock,
      input,
      actorOf(request),
      teamExistsIn(directory),
    );
    return noStore(reply).page('admin/user-created.njk', {
      pageTitle: 'User added',
      created: created.user,
      password: created.password,
    });
  } catch (error) {
    const issues = validationIssues(error);
    if (!issues) throw error;
    const errors = errorsFor(issues, (path) => FIELD_OF_PATH[path]);
    return newUserPage(reply.code(422), ctx, form, errors);
  }
}

export function registerUserPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/admin/users', adminPage, async (request, reply) =>
    reply.page('admin/users.njk', {
      pageTitle: 'Users',
      users: await listUsers(ctx.db.kysely, ctx.clock, ctx.config.secret),
      self: request.user?.id,
    }),
  );

  app.get('/admin/users/new', adminPage, async (_request, reply) =>
    newUserPage(reply, ctx, { email: '', name: '', roles: [], team: '' }),
  );

  app.post('/admin/users', adminForm(app), async (request, reply) => addUser(ctx, request, reply));

  for (const action of ['disable', 'enable', 'unlock'] as const satisfies UserAction[]) {
    app.post<{ Params: { id: string } }>(
      `/admin/users/:id/${action}`,
      adminForm(app),
      async (request, reply) => {
        await changeUser(
          ctx.db.kysely,
          ctx.clock,
          request.params.id,
          action,
          actorOf(request),
          ctx.config.secret,
        );
        return reply.redirect('/admin/users', 303);
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/reset-password',
    adminForm(app),
    async (request, reply) => {
      const reset = await resetPassword(
        ctx.db.kysely,
        ctx.clock,
        request.params.id,
        actorOf(request),
        ctx.config.secret,
      );
      return noStore(reply).page('admin/user-password-reset.njk', {
        pageTitle: 'Password reset',
        user: reset.user,
        password: reset.password,
      });
    },
  );
}
