import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { registerAccountPages } from './account.pages.ts';
import { csrfCheck } from '../../access/csrf.ts';
import { sessionApiGuard } from '../../access/session-api.guard.ts';
import { createSession, endSession, resolveSession, SESSION_MAX_MS } from '../../access/session.service.ts';
import { signIn } from '../../access/user.service.ts';

export const SESSION_COOKIE = 'relay_session';
/** @fastify/csrf-protection's cookie, holding the secret the form tokens are made from. */
const CSRF_COOKIE = '_csrf';

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

export function registerAuthRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const secure = ctx.config.baseUrl.startsWith('https:');
  const baseUrl = ctx.config.baseUrl;

  app.addHook('preHandler', async (request, reply) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token) request.user = await resolveSession(ctx.db.kysely, ctx.clock, token);
    return holdUntilPasswordChanged(request, reply);
  });
  // After the cookie plugin's onRequest has read the cookies; before any handler acts on them.
  app.addHook('preValidation', sessionApiGuard(ctx.config.baseUrl, SESSION_COOKIE));

  app.get<{ Querystring: { next?: string } }>('/sign-in', async (request, reply) => {
    return reply.page('auth/sign-in.njk', {
      pageTitle: 'Sign in',
      csrfToken: reply.generateCsrf(),
      next: safeNext(request.query.next, baseUrl),
    });
  });

  // In a plugin of its own, registered after @fastify/rate-limit has loaded, so that the limit's
  // onRoute hook sees this route (declared at the top level, it never did: issue 14, finding 2).
  void app.register(async (scope) => {
    scope.post<{ Body: { email?: string; password?: string; next?: string } }>(
      '/sign-in',
      {
        preValidation: csrfCheck(app),
        config: { rateLimit: { max: ctx.config.signInRateLimit, timeWindow: '1 minute' } },
      },
      async (request, reply) => {
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
              })
            : undefined;
        if (result?.kind === 'ok') {
          const token = await createSession(ctx.db.kysely, ctx.clock, result.user.id);
          reply.setCookie(SESSION_COOKIE, token, {
            httpOnly: true,
            sameSite: 'lax',
            secure,
            path: '/',
            maxAge: SESSION_MAX_MS / 1000,
          });
          // A new CSRF secret for the new session: tokens seen before signing in are worth nothing.
          delete request.cookies[CSRF_COOKIE];
          reply.generateCsrf();
          return reply.redirect(result.user.mustChangePassword ? '/account/password' : next, 303);
        }
        if (result?.kind === 'invalid') errors.email = WRONG_CREDENTIALS;
        if (result?.kind === 'throttled') {
          const minutes = Math.ceil(result.retryAfterSeconds / 60);
          errors.email = `Too many wrong passwords for this email address from here. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
          reply.header('retry-after', String(result.retryAfterSeconds));
        }
        return reply.code(result?.kind === 'throttled' ? 429 : 422).page('auth/sign-in.njk', {
          pageTitle: 'Sign in',
          csrfToken: reply.generateCsrf(),
          next,
          email,
          errors,
        });
      },
    );
  });

  app.post('/sign-out', { preValidation: csrfCheck(app) }, async (request, reply) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token) await endSession(ctx.db.kysely, token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });

  registerAccountPages(app, ctx, SESSION_COOKIE);
}
