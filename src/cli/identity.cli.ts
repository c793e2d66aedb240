import type { Command } from 'commander';
import type { RelayContext } from '../context.ts';
import { accountIdFor, command, withRuntime } from './command.ts';

function issuerOf(ctx: RelayContext, name: string): string {
  const provider = ctx.config.oidc.providers.find((p) => p.name === name.toLowerCase());
  if (!provider) throw new Error(`No provider "${name}" in OIDC_PROVIDERS (or OIDC_ISSUER, named "oidc")`);
  return provider.issuer;
}

/**
 * `relay user link|unlink`: ties a provider's subject to an account by hand (where the provider gives
 * no verified email), or removes a person's links, which ends their sessions at once.
 */
export function registerIdentityCommands(user: Command): void {
  user
    .command('link')
    .description(
      "Link an identity provider's subject (sub) to an account, for sign-in without a verified email",
    )
    .requiredOption('--email <email>', 'the Relay account')
    .requiredOption('--provider <name>', 'the provider, as named in OIDC_PROVIDERS')
    .requiredOption('--subject <sub>', "the person's subject (sub claim) at that provider")
    .action(
      command((options: { email: string; provider: string; subject: string }) =>
        withRuntime(async (ctx) => {
          const { linkIdentity } = await import('../access/identity.service.ts');
          const link = {
            userId: await accountIdFor(ctx, options.email),
            issuer: issuerOf(ctx, options.provider),
            subject: options.subject,
            provider: options.provider.toLowerCase(),
          };
          await linkIdentity(ctx.db.kysely, ctx.clock, link, 'cli');
          console.log(`Linked ${options.email} to its subject at ${link.provider}.`);
        }),
      ),
    );
  user
    .command('unlink')
    .description("Remove an account's identity provider links and end its sessions at once")
    .requiredOption('--email <email>', 'the Relay account')
    .option('--provider <name>', 'only this provider (default: all)')
    .action(
      command((options: { email: string; provider?: string }) =>
        withRuntime(async (ctx) => {
          const { unlinkIdentities } = await import('../access/identity.service.ts');
          const id = await accountIdFor(ctx, options.email);
          const issuer = options.provider ? issuerOf(ctx, options.provider) : undefined;
          const removed = await unlinkIdentities(ctx.db.kysely, ctx.clock, id, 'cli', issuer);
          console.log(
            `Removed ${removed} link${removed === 1 ? '' : 's'}; the account's sessions have ended.`,
          );
        }),
      ),
    );
}
