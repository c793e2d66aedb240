import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../context.ts';
import { checkReadiness } from '../assurance/health.ts';
import { createViews, NHSUK_DIST } from './views.ts';
import { registerAuthRoutes } from './auth/auth.routes.ts';
import { SESSION_IDLE_MS } from '../access/session.service.ts';
import { navigationFor, startPage } from './navigation.ts';
import { registerPages } from './pages.ts';
import { registerStylesheet } from './stylesheet.ts';
import { escapeHtml } from '../delivery/messages/html.ts';

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page with the layout's shared data (service name, health banner). */
    page(view: string, data?: Record<string, unknown>): Promise<FastifyReply>;
  }
}

export const SERVICE_NAME = 'Safeguard Relay';

const RELAY_ASSETS = fileURLToPath(new URL('./assets', import.meta.url));

/**
 * Security headers for every answer (docs/operations.md, What is exposed): a Content-Security-Policy with scripts
 * from Relay's own origin only (no inline script), no framing by any site, nosniff, no Referer
 * (acknowledge-link URLs are bearer tokens), and HSTS once BASE_URL is https. Styles may be
 * inline: the Mailbox shows emails' own HTML in a sandboxed frame, which inherits this policy.
 * Forms post to Relay only, but signing out redirects to the identity providers' end-session
 * pages, and form-action governs a form's redirects too: so their origins are allowed.
 */
function securityHeaders(https: boolean, providerOrigins: string[]) {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'", ...providerOrigins],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  };
}

/** Every page of a drill node (`relay start --drill`) says so, and what it will not do. */
export const DRILL_BANNER =
  'DRILL: a restored copy, for reading only. Relay sends nothing from it (no referrals, reminders, escalation pushes, test alerts or heartbeat), takes no new work and watches no deadlines.';

/**
 * What every HTML page needs: form bodies, cookies, CSRF tokens, the NHS design system's CSS, JS
 * and images served locally, and Nunjucks rendering with the health banner.
 */
export function registerWeb(
  app: FastifyInstance,
  ctx: RelayContext,
  options: { mailbox?: boolean } = {},
): void {
  // A 10,000-character account in a non-Latin script, percent-encoded, can pass 64 KiB.
  void app.register(formbody, { bodyLimit: 256 * 1024 });
  void app.register(cookie, { secret: ctx.config.secret });
  void app.register(csrf, {
    cookieOpts: {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: ctx.config.baseUrl.startsWith('https:'),
    },
  });
  void app.register(rateLimit, { global: false });
  const providerOrigins = [...new Set(ctx.config.oidc.providers.map((p) => new URL(p.issuer).origin))];
  // Built once: @fastify/helmet built the whole middleware again, CSP parsing and all, for every
  // request (2 % of the event loop in an intake burst). The same headers, on every answer.
  const secure = helmet(securityHeaders(ctx.config.baseUrl.startsWith('https:'), providerOrigins));
  app.addHook('onRequest', (request, reply, done) =>
    secure(request.raw, reply.raw, (error) => done(error as Error | undefined)),
  );
  void app.register(fastifyStatic, {
    root: join(NHSUK_DIST, 'nhsuk'),
    prefix: '/assets/nhsuk/',
    allowedPath: (path) => /\.(css|js|svg|png|ico|woff2?|json)$/.test(path),
    maxAge: '1d',
  });
  // Relay's own static files: the scripts the CSP will not allow inline (js-enabled, initAll, the
  // session timeout warning, the crew form's drafts and offline sending).
  void app.register(fastifyStatic, {
    root: RELAY_ASSETS,
    prefix: '/assets/relay/',
    decorateReply: false,
    maxAge: '1d',
  });
  registerStylesheet(app);
  registerAuthRoutes(app, ctx);
  registerPages(app, ctx, options);
  app.get('/', async (request, reply) =>
    reply.redirect(request.user ? startPage(request.user) : '/sign-in', 303),
  );
  const views = createViews();
  app.decorateReply(
    'page',
    async function (this: FastifyReply, view: string, data: Record<string, unknown> = {}) {
      const readiness = await checkReadiness(ctx).catch(() => undefined);
      const user = this.request.user;
      const csrfToken = (data.csrfToken as string | undefined) ?? (user ? this.generateCsrf() : undefined);
      const html = views.render(view, {
        serviceName: SERVICE_NAME,
        assetPath: '/assets/nhsuk/assets',
        healthProblem:
          ctx.config.mode === 'drill'
            ? DRILL_BANNER
            : readiness && !readiness.ready
              ? describeHealth(readiness)
              : undefined,
        user,
        // For the page's timeout warning: a signed-in page knows when its session would end unused.
        sessionIdleSeconds: user ? SESSION_IDLE_MS / 1000 : undefined,
        csrfToken,
        navigation: {
          items: navigationFor(user, { mailbox: options.mailbox === true }).map((item) => ({
            ...item,
            current: this.request.url.split('?')[0] === item.href,
          })),
        },
        account: user ? accountItems(user.name, csrfToken ?? '') : undefined,
        pageUrl: postedPageUrl(app, this.request),
        ...data,
      });
      // Pages show personal data: no browser or proxy may keep a copy (the back button included).
      return this.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    },
  );
}

/**
 * A page rendered by a POST (a form shown again with its errors, a one-time secret) at an address
 * that also answers GET: that address. init.js puts it in the history in place of the POST, so Back
 * loads the page afresh instead of the browser's ERR_CACHE_MISS (pages are never stored). A form
 * whose POST goes elsewhere passes its own `pageUrl`.
 */
function postedPageUrl(app: FastifyInstance, request: FastifyRequest): string | undefined {
  if (request.method !== 'POST') return undefined;
  const route = request.routeOptions.url;
  return route && app.hasRoute({ method: 'GET', url: route }) ? request.url : undefined;
}

/** The header's account area: who is signed in, and a sign-out button whose form carries the CSRF token. */
function accountItems(name: string, csrfToken: string) {
  const hidden = `<input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">`;
  return {
    items: [
      { text: name, icon: true },
      { action: '/sign-out', html: `${hidden}Sign out` },
    ],
  };
}

function describeHealth(r: Awaited<ReturnType<typeof checkReadiness>>): string {
  if (r.components.database === 'unreachable')
    return 'Relay cannot reach its database. Referrals cannot be taken.';
  if (r.status === 'draining') return 'This Relay node is shutting down.';
  if (r.components.database === 'not-writable')
    return 'Relay’s database is not accepting changes (read-only or full). Referrals cannot be taken.';
  const stale = [r.components.dispatcher, r.components.watchdog]
    .filter((c) => c?.stale)
    .map((c) => c?.component);
  if (stale.length > 0)
    return `Relay's ${stale.join(' and ')} ${stale.length > 1 ? 'have' : 'has'} stopped reporting. Deliveries or deadline checks may be stalled.`;
  if (r.components.sweep?.stale)
    return 'Relay’s deadline checks have not completed recently. Late or failed referrals may not be escalated.';
  if (r.components.clock?.stale) return 'This Relay server’s clock is wrong, so its deadlines may be wrong.';
  return 'Relay is not ready.';
}
