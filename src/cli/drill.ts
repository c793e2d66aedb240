import { buildApp } from '../app.ts';
import type { RelayContext } from '../context.ts';
import { createLogger } from '../http/logger.ts';
import { DRILL_BANNER } from '../web/web.plugin.ts';

/**
 * A node for the restore drill (`relay start --drill`, RELAY_MODE=drill): the pages, the API's reads,
 * /readyz and /metrics over the restored copy, and nothing else. No dispatcher, watchdog, bounce
 * listener or mail transport exists in this process, so a copy's outbox can never send again what
 * production already delivered, whatever SMTP_URL says. Like `relay start`, it logs JSON lines only.
 */
export async function startDrill(ctx: RelayContext): Promise<void> {
  const log = createLogger(ctx.config.logLevel);
  const app = buildApp(ctx, { logger: log });
  await app.listen({ host: ctx.config.host, port: ctx.config.port });
  log.warn({ mode: 'drill' }, DRILL_BANNER);
  log.info(
    { role: 'drill', url: ctx.config.baseUrl },
    `Safeguard Relay (drill) is running at ${ctx.config.baseUrl}`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal} received: stopping the drill node.`);
    ctx.lifecycle.draining = true;
    await app.close();
    await ctx.db.close();
    log.info('Stopped.');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
