import type { RelayContext } from '../context.ts';

/**
 * What every command's action is wrapped in. This file imports nothing at run time but the runtime it
 * opens on demand, and each command loads its implementation with `await import()` inside its
 * action: `relay --help`, and every command, load only what they use (under a second, where loading
 * every module up front took longer than the command itself).
 */

/** Runs a command body and turns any failure into a one-line reason and a non-zero exit. */
export function command<A extends unknown[]>(
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      process.exitCode = 1;
      reportFailure(error);
    }
  };
}

function reportFailure(error: unknown): void {
  const e = error as { message?: string; errors?: { path: string; message: string }[]; code?: string };
  const reason = e?.code === 'ECONNREFUSED' ? 'cannot reach the database' : (e?.message ?? String(error));
  console.error(`relay: ${reason.split('\n')[0]}`);
  for (const issue of e?.errors ?? []) console.error(`  ${issue.path || '(file)'}: ${issue.message}`);
}

/** Runs `body` on an open, migrated runtime (see runtime.ts) and closes its database, whatever happens. */
export async function withRuntime(body: (ctx: RelayContext) => Promise<void>): Promise<void> {
  const { openRuntime } = await import('./runtime.ts');
  const ctx = await openRuntime();
  try {
    await body(ctx);
  } finally {
    await ctx.db.close();
  }
}

/** People are named by the email they sign in with; the account's id is what the audit records. */
export async function accountIdFor(ctx: RelayContext, email: string): Promise<string> {
  const row = await ctx.db.kysely
    .selectFrom('users')
    .select('id')
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  if (!row) throw new Error(`no account signs in as ${email}`);
  return row.id;
}
