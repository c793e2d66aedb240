import Fastify, { type FastifyInstance } from 'fastify';
import type { RelayContext } from './context.ts';
import { registerProbeRoutes } from './assurance/probes.ts';
import { registerAcknowledgementRoutes } from './response/response.routes.ts';
import { registerEscalationRoutes } from './assurance/escalation.routes.ts';
import { registerMetricsRoute } from './assurance/metrics.ts';
import { registerManifestRoutes } from './assurance/manifest.routes.ts';
import { registerOpenApiRoute } from './openapi.ts';
import { refuseControlCharacters, refuseOtherCharsets } from './http/control-characters.ts';
import { registerProblemHandlers } from './http/problem.ts';
import { createLogger, type RelayLogger } from './http/logger.ts';
import { RelayError } from './errors.ts';
import { registerReferralRoutes } from './referrals/referral.routes.ts';
import { registerFhirRoutes } from './fhir/fhir.routes.ts';
import { registerWeb } from './web/web.plugin.ts';
import { registerMailCatcherRoutes } from './mailcatcher/mailcatcher.routes.ts';

/** Probes keep answering while draining: /readyz reports `draining` itself, and the last scrapes still land. */
const ANSWERED_WHILE_DRAINING = new Set(['/healthz', '/readyz', '/metrics']);

/** In drill mode only reading is allowed, and signing in and out to do it. */
const DRILL_WRITES_ALLOWED = new Set(['/sign-in', '/sign-out']);
function readOnly(method: string, url: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || DRILL_WRITES_ALLOWED.has(url ?? '');
}

export interface DeclaredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    declaredRoutes: DeclaredRoute[];
  }
}

/** Wires every route; never listens, so tests drive it with app.inject(). */
export interface AppOptions {
  /** Serve the caught emails (embedded default only). */
  mailCatcher?: boolean;
  /** The process's logger (relay start); by default one at LOG_LEVEL of the app's own. */
  logger?: RelayLogger;
}

export function buildApp(ctx: RelayContext, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger ?? createLogger(ctx.config.logLevel),
    bodyLimit: 256 * 1024,
    // Acknowledge-link tokens (~125 characters) are path parameters; the default limit of 100 would 414 them.
    routerOptions: { maxParamLength: 512 },
    // Behind a reverse proxy the client is the address it forwards (sign-in throttling is per client).
    ...(ctx.config.trustProxy ? { trustProxy: ctx.config.trustProxy } : {}),
  });
  registerProblemHandlers(app);
  // Every route, as declared: the access test walks them all with every role.
  const routes: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.addHook('onRequest', async (request) => {
    if (ctx.lifecycle.draining && !ANSWERED_WHILE_DRAINING.has(request.routeOptions.url ?? '')) {
      throw new RelayError('service-unavailable', 'Relay is shutting down; try another node', undefined, {
        retryAfterSeconds: 5,
      });
    }
  });
  app.addHook('onRequest', async (request) => {
    if (ctx.config.mode === 'drill' && !readOnly(request.method, request.routeOptions.url)) {
      throw new RelayError('service-unavailable', 'This is a drill copy: it shows, and takes no work');
    }
  });
  // Before the body is parsed: a UTF-16 body read as UTF-8 is garbage, not a client's JSON.
  app.addHook('onRequest', refuseOtherCharsets);
  // Fastify parses text/plain too; the API takes JSON only, so anything else is refused plainly.
  app.addHook('preValidation', async (request) => {
    if (!request.url.startsWith('/api/') || request.body === undefined) return;
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new RelayError('unsupported-media-type');
    }
  });
  app.addHook('preValidation', refuseControlCharacters);

  registerProbeRoutes(app, ctx);

  registerWeb(app, ctx, { mailbox: options.mailCatcher === true });
  registerReferralRoutes(app, ctx);
  registerFhirRoutes(app, ctx);
  registerAcknowledgementRoutes(app, ctx);
  registerEscalationRoutes(app, ctx);
  registerManifestRoutes(app, ctx);
  registerOpenApiRoute(app);
  registerMetricsRoute(app, ctx);
  if (options.mailCatcher) registerMailCatcherRoutes(app, ctx);
  return app;
}
