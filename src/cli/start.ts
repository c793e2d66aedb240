import { buildApp } from '../app.ts';
import type { RelayContext } from '../context.ts';
import { latestVersion } from '../directory/directory.repository.ts';
import { seedDemo } from './demo.ts';

export type Role = 'web' | 'worker' | 'all';

export interface StartOptions {
  demo: boolean;
  role: Role;
}

/** Runs Relay until SIGTERM or SIGINT, then stops taking requests, finishes what is in flight and exits. */
export async function start(ctx: RelayContext, options: StartOptions): Promise<void> {
  if (options.demo) for (const line of (await seedDemo(ctx)) ?? []) console.log(line);
  warnAboutSetup(ctx, await latestVersion(ctx.db.kysely));
  const app = buildApp(ctx);
  if (options.role !== 'worker') {
    await app.listen({ host: ctx.config.host, port: ctx.config.port });
  }
  console.log(`Safeguard Relay (${options.role}) is running at ${ctx.config.baseUrl}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing in-flight work, then stopping.`);
    await app.close();
    await ctx.db.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function warnAboutSetup(ctx: RelayContext, directory: unknown): void {
  for (const name of ctx.config.insecureDefaults) {
    console.warn(
      `WARNING: ${name} is not set; using a development-only value. Never do this with real referrals.`,
    );
  }
  if (!directory) {
    console.warn(
      'WARNING: no directory is loaded, so every referral will wait in triage. Run `relay directory import FILE`.',
    );
  }
}
