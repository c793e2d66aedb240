import type { FastifyInstance, preValidationHookHandler } from 'fastify';

/**
 * The CSRF check for a form's POST, as a preValidation hook: the token is in the parsed body, which
 * onRequest does not have yet. The plugin decorates the app only once it has loaded, so the check
 * is looked up per request rather than captured when the route is declared.
 */
export function csrfCheck(app: FastifyInstance): preValidationHookHandler {
  return function check(request, reply, done) {
    app.csrfProtection(request, reply, done);
  };
}
