import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { createSession, type SessionOptions } from '../../access/session.service.ts';

export const SESSION_COOKIE = 'relay_session';
/** @fastify/csrf-protection's cookie, holding the secret the form tokens are made from. */
const CSRF_COOKIE = '_csrf';

/**
 * Signs the person in on this browser: a server-side session lasting at most SESSION_MAX_AGE, its
 * cookie, and a new CSRF secret (tokens seen before signing in are worth nothing after).
 */
export async function startBrowserSession(
  ctx: RelayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  userId: string,
  options: Omit<SessionOptions, 'maxAgeMs'> = {},
): Promise<void> {
  const maxAgeMs = ctx.config.sessionMaxAgeMs;
  const token = await createSession(ctx.db.kysely, ctx.clock, userId, { ...options, maxAgeMs });
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.baseUrl.startsWith('https:'),
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
  delete request.cookies[CSRF_COOKIE];
  reply.generateCsrf();
}
