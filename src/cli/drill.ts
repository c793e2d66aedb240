import { buildApp } from '../app.ts';
import type { RelayContext } from '../context.ts';
import { DRILL_BANNER } from '../web/web.plugin.ts';

/**
 * A node for the restore drill (`relay start --drill`, RELAY_MODE=drill): the pages, the API's reads,
 * /readyz and /metrics over the restored copy, and nothing else. No dispatcher, watchdog, bounce
 * listener or mail transport exists in this process, so a copy's outbox can never send again what
 * production already delivered, whatever SMTP_URL says.
 */
export async function startDrill(ctx: RelayContext): Promise<void> {
  const app = buildApp(ctx);
  await app.listen({ host: ctx.config.host, port: ctx.config.port });
  console.log(`${DRILL_BANNER}\nSafeguard Relay (drill) is running at ${ctx.config.baseUrl}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: stopping the drill node.`);
    ctx.lifecycle.draining = true;
    await app.close();
    await ctx.db.close();
    console.log('Stopped.');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
