import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { createUser, ROLES, rowToUser } from '../../access/user.service.ts';
import {
  actorOf,
  adminForm,
  errorList,
  formField,
  formList,
  noStore,
  submitForm,
  type FieldErrors,
} from './forms.ts';
import { currentDirectory, teamExistsIn, teamItems } from './teams.ts';
import { changeAccess, changeUser, listUsers, resetPassword, type UserAction } from './users.admin.ts';
import { confirmPage, reasonProblem, registerConfirmedAction, type Confirmation } from './confirm.ts';
import { RelayError } from '../../errors.ts';
import { resetSecondFactor } from '../../access/second-factor.service.ts';

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
    roleItems: roleItems(form.roles),
    teamItems: teamItems(directory, form.team, 'No team'),
  });
}

const roleItems = (checked: string[]) =>
  ROLES.map((role) => ({
    value: role,
    text: role,
    hint: { text: ROLE_HINTS[role] },
    checked: checked.includes(role),
  }));

interface AccessForm {
  roles: string[];
  /** Teams kept (ticked); `team` adds one more. */
  teams: string[];
  team: string;
}

async function editUserPage(
  reply: FastifyReply,
  ctx: RelayContext,
  userId: string,
  form: AccessForm | undefined,
  errors: FieldErrors = {},
) {
  const user = await ctx.db.kysely
    .selectFrom('users')
    .selectAll()
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) throw new RelayError('not-found', 'No user with that id');
  const current = rowToUser(user);
  const shown = form ?? { roles: current.roles, teams: current.teams, team: '' };
  const { directory } = await currentDirectory(ctx);
  const teamName = (id: string) => teamItems(directory, '', '').find((t) => t.value === id)?.text ?? id;
  return reply.page('admin/user-edit.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Change roles and teams`,
    user: current,
    form: shown,
    errors,
    errorList: errorList(errors),
    roleItems: roleItems(shown.roles),
    currentTeamItems: current.teams.map((id) => ({
      value: id,
      text: teamName(id),
      checked: shown.teams.includes(id),
    })),
    teamItems: teamItems(directory, shown.team, current.teams.length ? 'No other team' : 'No team'),
  });
}

async function editUser(
  ctx: RelayContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
) {
  const form: AccessForm = {
    roles: formList(request.body, 'roles'),
    teams: formList(request.body, 'teams'),
    team: formField(request.body, 'team'),
  };
  const { directory } = await currentDirectory(ctx);
  const teams = [...new Set([...form.teams, ...(form.team ? [form.team] : [])])];
  return submitForm(
    reply,
    () =>
      changeAccess(
        ctx.db.kysely,
        ctx.clock,
        request.params.id,
        { roles: form.roles, teams },
        actorOf(request),
        teamExistsIn(directory),
      ),
    FIELD_OF_PATH,
    {
      done: () => reply.redirect('/admin/users', 303),
      again: (reply422, errors) => editUserPage(reply422, ctx, request.params.id, form, errors),
    },
  );
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
  return submitForm(
    reply,
    () => createUser(ctx.db.kysely, ctx.clock, input, actorOf(request), teamExistsIn(directory)),
    FIELD_OF_PATH,
    {
      done: (created) =>
        noStore(reply).page('admin/user-created.njk', {
          pageTitle: 'User added',
          created: created.user,
          password: created.password,
        }),
      again: (reply422, errors) => newUserPage(reply422, ctx, form, errors),
    },
  );
}

export function registerUserPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/admin/users', async (request, reply) =>
    reply.page('admin/users.njk', {
      pageTitle: 'Users',
      users: await listUsers(ctx.db.kysely, ctx.clock, ctx.config.secret),
      self: request.user?.id,
    }),
  );

  app.get('/admin/users/new', async (_request, reply) =>
    newUserPage(reply, ctx, { email: '', name: '', roles: [], team: '' }),
  );

  app.post('/admin/users', adminForm(app), async (request, reply) => addUser(ctx, request, reply));

  app.get<{ Params: { id: string } }>('/admin/users/:id/edit', async (request, reply) =>
    editUserPage(reply, ctx, request.params.id, undefined),
  );
  app.post<{ Params: { id: string } }>('/admin/users/:id/edit', adminForm(app), async (request, reply) =>
    editUser(ctx, request, reply),
  );

  // Disabling ends the person's sessions and a reset replaces their password: both ask first, and why.
  const describeUser = async (id: string, what: (u: { name: string; email: string }) => Confirmation) => {
    const row = await ctx.db.kysely
      .selectFrom('users')
      .select(['name', 'email'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No user with that id');
    return what(row);
  };
  registerConfirmedAction(app, {
    path: '/admin/users/:id/disable',
    done: '/admin/users',
    describe: (id) =>
      describeUser(id, (u) => ({
        title: `Disable ${u.name || u.email}`,
        consequence: `${u.email} is signed out at once and cannot sign in until an admin enables the account again.`,
        button: 'Disable account',
        cancelHref: '/admin/users',
      })),
    act: (request, id, reason) =>
      changeUser(ctx.db.kysely, ctx.clock, id, 'disable', actorOf(request), ctx.config.secret, reason),
  });

  registerConfirmedAction(app, {
    path: '/admin/users/:id/reset-second-factor',
    done: '/admin/users',
    describe: (id) =>
      describeUser(id, (u) => ({
        title: `Reset the security codes of ${u.name || u.email}`,
        consequence: `${u.email} is signed out, their authenticator app and recovery codes stop working, and they set up a new app when they next sign in with their password. Do this only once you are sure who is asking.`,
        button: 'Reset security codes',
        cancelHref: '/admin/users',
      })),
    act: (request, id, reason) => resetSecondFactor(ctx, id, actorOf(request), reason),
  });

  for (const action of ['enable', 'unlock'] as const satisfies UserAction[]) {
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

  app.get<{ Params: { id: string } }>('/admin/users/:id/reset-password', async (request, reply) =>
    confirmReset(reply, request.params.id),
  );
  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/reset-password',
    adminForm(app),
    async (request, reply) => {
      const reason = formField(request.body, 'reason');
      const problem = reasonProblem(reason);
      if (problem) return confirmReset(reply.code(422), request.params.id, reason, problem);
      const reset = await resetPassword(
        ctx.db.kysely,
        ctx.clock,
        request.params.id,
        actorOf(request),
        ctx.config.secret,
        reason,
      );
      return noStore(reply).page('admin/user-password-reset.njk', {
        pageTitle: 'Password reset',
        user: reset.user,
        password: reset.password,
      });
    },
  );

  async function confirmReset(reply: FastifyReply, id: string, reason = '', problem?: string) {
    const confirmation = await describeUser(id, (u) => ({
      title: `Reset the password of ${u.name || u.email}`,
      consequence: `${u.email} is signed out, their old password stops working, and they must choose a new one when they first sign in with the one Relay shows you next.`,
      button: 'Reset password',
      cancelHref: '/admin/users',
    }));
    return confirmPage(
      reply,
      confirmation,
      `/admin/users/${encodeURIComponent(id)}/reset-password`,
      reason,
      problem,
    );
  }
}
