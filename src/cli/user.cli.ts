import type { Command } from 'commander';
import type { UserAction } from '../web/admin/users.admin.ts';
import { accountIdFor, command, withRuntime } from './command.ts';

const DONE: Record<UserAction, string> = {
  disable: 'Disabled (signed out everywhere)',
  enable: 'Enabled',
  unlock: 'Unlocked (sign-in waits cleared)',
};

/**
 * `relay user list|disable|enable|unlock|reset-password|reset-mfa`: what an admin does on the Users page, for
 * the operator on a server when no admin can sign in. Each change is audited with actor `cli`.
 */
export function registerUserCommands(user: Command): void {
  user
    .command('list')
    .description(
      'List accounts: email, roles, teams, and whether disabled or locked (waiting after failures)',
    )
    .action(
      command(() =>
        withRuntime(async (ctx) => {
          const { listUsers } = await import('../web/admin/users.admin.ts');
          for (const u of await listUsers(ctx.db.kysely, ctx.clock, ctx.config.secret)) {
            const state = u.disabled ? 'disabled' : u.locked ? 'locked' : 'active';
            console.log([u.email, u.roles.join(','), u.teams.join(',') || '-', state, u.name].join('\t'));
          }
        }),
      ),
    );
  for (const action of ['disable', 'enable', 'unlock'] as const) {
    user
      .command(action)
      .description(
        action === 'disable'
          ? 'Disable an account and end its sessions (audited)'
          : action === 'enable'
            ? 'Enable a disabled account again (audited)'
            : 'Clear the sign-in waits after failed attempts (audited)',
      )
      .argument('<email>', 'the email address they sign in with')
      .requiredOption('--reason <text>', 'why (audited)')
      .action(
        command((email: string, options: { reason: string }) =>
          withRuntime(async (ctx) => {
            const { changeUser } = await import('../web/admin/users.admin.ts');
            const id = await accountIdFor(ctx, email);
            await changeUser(ctx.db.kysely, ctx.clock, id, action, 'cli', ctx.config.secret, options.reason);
            console.log(`${DONE[action]}: ${email}.`);
          }),
        ),
      );
  }
  user
    .command('reset-mfa')
    .description(
      "Remove an account's second factor (authenticator app and recovery codes) and end its sessions; with MFA_LOCAL=required they set up a new one at next sign-in (audited)",
    )
    .argument('<email>', 'the email address they sign in with')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(
      command((email: string, options: { reason: string }) =>
        withRuntime(async (ctx) => {
          const { resetSecondFactor } = await import('../access/second-factor.service.ts');
          await resetSecondFactor(ctx, await accountIdFor(ctx, email), 'cli', options.reason);
          console.log(`Second factor reset (signed out everywhere): ${email}.`);
        }),
      ),
    );
  user
    .command('reset-password')
    .description(
      'Give an account a new generated password, printed once alone on standard output; they must change it at next sign-in (audited)',
    )
    .argument('<email>', 'the email address they sign in with')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(
      command((email: string, options: { reason: string }) =>
        withRuntime(async (ctx) => {
          const { resetPassword } = await import('../web/admin/users.admin.ts');
          const id = await accountIdFor(ctx, email);
          const { password } = await resetPassword(
            ctx.db.kysely,
            ctx.clock,
            id,
            'cli',
            ctx.config.secret,
            options.reason,
          );
          console.log(password);
        }),
      ),
    );
}
