import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { registerAccountPages } from './account.pages.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { sessionApiGuard } from '../../access/session-api.guard.ts';
import { endSession, resolveSession } from '../../access/session.service.ts';
import { signIn } from '../../access/user.service.ts';
import { needsSecondFactor } from '../../access/second-factor.service.ts';
import { askForSecondFactor, registerSecondFactorRoutes } from './second-factor.routes.ts';
import { registerOidcRoutes, signOutUrl } from './oidc.routes.ts';
import { SESSION_COOKIE, startBrowserSession } from './session.cookie.ts';

export { SESSION_COOKIE };

/** The one answer for an unknown email, a wrong password and a disabled account alike. */
export const WRONG_CREDENTIALS = 'The email address or password is wrong';

/**
 * Where to go after signing in: `next` resolved against BASE_URL, kept only if it stays on BASE_URL's
 * origin (`/\evil.example` and `//evil.example` are other hosts to a browser, so they go to `/`).
 * Returned as a path, percent-encoded, so any character typed into it is safe in a Location header.
 */
export function safeNext(next: unknown, baseUrl: string): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return '/';
  try {
    const base = new URL(baseUrl);
    const url = new URL(next, base);
    if (url.origin !== base.origin) return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}

/** Pages a person who must change their password can still reach. */
const WHILE_CHANGING_PASSWORD = /^\/(account\/password|sign-out|sign-in|assets\/)/;

/**
 * After an admin's reset, the person must choose a new password before anything else: pages lead
 * to /account/password, and the API with their session answers 403.
 */
async function holdUntilPasswordChanged(request: FastifyRequest, reply: FastifyReply) {
  if (!request.user?.mustChangePassword || WHILE_CHANGING_PASSWORD.test(request.url)) return;
  if (request.url.startsWith('/api/'))
    throw new RelayError('forbidden', 'Choose a new password at /account/password first');
  return reply.redirect('/account/password', 303);
}

/** The sign-in page: the identity providers first, the password form only where local accounts are on. */
export function signInPage(ctx: RelayContext, reply: FastifyReply, data: Record<string, unknown>) {
  return reply.page('auth/sign-in.njk', {
    pageTitle: 'Sign in',
    csrfToken: reply.generateCsrf(),
    providers: ctx.config.oidc.providers.map((p) => ({ name: p.name, label: p.label })),
    localSignIn: ctx.config.localSignIn,
    ...data,
  });
}

export function registerAuthRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const baseUrl = ctx.config.baseUrl;

  app.addHook('preHandler', async (request, reply) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token) request.user = await resolveSession(ctx.db.kysely, ctx.clock, token);
    return holdUntilPasswordChanged(request, reply);
  });
  // After the cookie plugin's onRequest has read the cookies; before any handler acts on them.
  app.addHook('preValidation', sessionApiGuard(ctx.config.baseUrl, SESSION_COOKIE));

  app.get<{ Querystring: { next?: string; reason?: string } }>('/sign-in', async (request, reply) => {
    const next = safeNext(request.query.next, baseUrl);
    return signInPage(ctx, reply, {
      next,
      // Why a person is here again: a session that ended while they were working, perhaps on a draft.
      timedOut: request.query.reason === 'timeout',
      draftKept: next.startsWith('/crew/referrals/drafts/'),
    });
  });

  // In a plugin of its own, registered after @fastify/rate-limit has loaded, so that the limit's
  // onRoute hook sees this route (declared at the top level, it never did).
  void app.register(async (scope) => {
    scope.post<{ Body: { email?: string; password?: string; next?: string } }>(
      '/sign-in',
      {
        preValidation: csrfCheck(app),
        config: { rateLimit: { max: ctx.config.signInRateLimit, timeWindow: '1 minute' } },
      },
      async (request, reply) => {
        if (!ctx.config.localSignIn)
          throw new RelayError('forbidden', 'Sign in with your organisation instead');
        const email = String(request.body?.email ?? '').trim();
        const password = String(request.body?.password ?? '');
        const next = safeNext(request.body?.next, baseUrl);
        const errors: Record<string, string> = {};
        if (!email) errors.email = 'Enter your email address';
        if (!password) errors.password = 'Enter your password';
        const result =
          Object.keys(errors).length === 0
            ? await signIn(ctx.db.kysely, ctx.clock, {
                email,
                password,
                client: request.ip,
                secret: ctx.config.secret,
                needsSecondFactor: (userId) => needsSecondFactor(ctx, userId),
              })
            : undefined;
        if (result?.kind === 'ok' && result.secondFactor)
          return askForSecondFactor(ctx, reply, result.user.id, next);
        if (result?.kind === 'ok') {
          await startBrowserSession(ctx, request, reply, result.user.id);
          return reply.redirect(result.user.mustChangePassword ? '/account/password' : next, 303);
        }
        if (result?.kind === 'invalid') errors.email = WRONG_CREDENTIALS;
        if (result?.kind === 'throttled') {
          const minutes = Math.ceil(result.retryAfterSeconds / 60);
          errors.email = `Too many wrong passwords for this email address from here. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
          reply.header('retry-after', String(result.retryAfterSeconds));
        }
        return signInPage(ctx, reply.code(result?.kind === 'throttled' ? 429 : 422), { next, email, errors });
      },
    );
  });

  app.post('/sign-out', { preValidation: csrfCheck(app) }, async (request, reply) => {
    const token = request.cookies?.[SESSION_COOKIE];
    const ended = token ? await endSession(ctx.db.kysely, token) : undefined;
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect(await signOutUrl(ctx, request.user, ended), 303);
  });

  registerOidcRoutes(app, ctx);
  registerSecondFactorRoutes(app, ctx);

  registerAccountPages(app, ctx, SESSION_COOKIE);
}
