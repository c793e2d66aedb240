import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Role, User } from '../../access/user.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

export function hasRole(user: User | undefined, roles: readonly Role[]): boolean {
  return user !== undefined && user.roles.some((r) => roles.includes(r));
}

/**
 * A page guard: signed out → sign-in (coming back here afterwards); signed in without one of the
 * roles → 403. Every page route names its roles, so nothing is open by omission.
 */
export function requireRole(...roles: Role[]): preHandlerAsyncHookHandler {
  return async function guard(request: FastifyRequest, reply: FastifyReply) {
    if (!request.user) {
      const next = encodeURIComponent(request.url);
      return reply.redirect(`/sign-in?next=${next}`, 303);
    }
    if (!hasRole(request.user, roles)) {
      return reply
        .code(403)
        .page('errors/forbidden.njk', { pageTitle: 'You cannot see this page', user: request.user });
    }
  };
}

/**
 * Registers one area's pages in an encapsulated context of their own whose guard runs before every
 * route in it, so no route of the area can be added without its roles.
 */
export function registerArea(
  app: FastifyInstance,
  roles: readonly Role[],
  register: (area: FastifyInstance) => void,
): void {
  void app.register(async (area) => {
    area.addHook('preHandler', requireRole(...roles));
    register(area);
  });
}
