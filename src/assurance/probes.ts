import Fastify, { type FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { checkReadiness } from './health.ts';
import { registerMetricsRoute } from './metrics.ts';

/** `/healthz` (alive: restart on this) and `/readyz` (able to work: route traffic on this). */
export function registerProbeRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await checkReadiness(ctx);
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
}

export interface ProbeServer {
  /** Where the probes answer, e.g. http://127.0.0.1:9464 (the port actually bound, when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/**
 * A worker node serves no pages, but must still be watched: its own small server answers
 * /healthz, /readyz and /metrics on METRICS_PORT, and nothing else.
 */
export async function startProbeServer(
  ctx: RelayContext,
  options: { host: string; port: number; logger: FastifyInstance['log'] },
): Promise<ProbeServer> {
  const app = Fastify({ loggerInstance: options.logger.child({ server: 'probes' }) });
  registerProbeRoutes(app, ctx);
  registerMetricsRoute(app, ctx);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
