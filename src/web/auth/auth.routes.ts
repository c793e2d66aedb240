import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { csrfCheck } from './csrf.ts';
import { sessionApiGuard } from './session-api.guard.ts';
import { createSession, endSession, resolveSession, SESSION_MAX_MS } from './session.service.ts';
import { signIn } from './user.service.ts';

export const SESSION_COOKIE = 'relay_session';

/** Only same-site paths: an attacker's link must not bounce a fresh sign-in to their site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function registerAuthRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const secure = ctx.config.baseUrl.startsWith('https:');

  app.addHook('preHandler', async (request) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token) request.user = await resolveSession(ctx.db.kysely, ctx.clock, token);
  });
  // After the cookie plugin's onRequest has read the cookies; before any handler acts on them.
  app.addHook('preValidation', sessionApiGuard(ctx.config.baseUrl, SESSION_COOKIE));

  app.get<{ Querystring: { next?: string } }>('/sign-in', async (request, reply) => {
    return reply.page('auth/sign-in.njk', {
      pageTitle: 'Sign in',
      csrfToken: reply.generateCsrf(),
      next: safeNext(request.query.next),
    });
  });

  app.post<{ Body: { email?: string; password?: string; next?: string } }>(
    '/sign-in',
    { preValidation: csrfCheck(app), config: { rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const email = String(request.body?.email ?? '').trim();
      const password = String(request.body?.password ?? '');
      const errors: Record<string, string> = {};
      if (!email) errors.email = 'Enter your email address';
      if (!password) errors.password = 'Enter your password';
      const result =
        Object.keys(errors).length === 0
          ? await signIn(ctx.db.kysely, ctx.clock, email, password)
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
        return reply.redirect(safeNext(request.body?.next), 303);
      }
      if (result?.kind === 'invalid') errors.email = 'The email address or password is wrong';
      if (result?.kind === 'locked') {
        errors.email = 'This account is locked after too many wrong passwords. Try again in 15 minutes.';
      }
      return reply.code(result?.kind === 'locked' ? 429 : 422).page('auth/sign-in.njk', {
        pageTitle: 'Sign in',
        csrfToken: reply.generateCsrf(),
        next: safeNext(request.body?.next),
        email,
        errors,
      });
    },
  );

  app.post('/sign-out', { preValidation: csrfCheck(app) }, async (request, reply) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token) await endSession(ctx.db.kysely, token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });
}
