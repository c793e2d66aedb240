import type { FastifyRequest } from 'fastify';
import { RelayError } from '../errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A browser sends the session cookie with any site's request, so an API call that changes something
 * on the strength of a cookie alone must prove it came from Relay's own pages: the browser's
 * `Origin` must be BASE_URL's, and the body must be JSON (which another site's form cannot send
 * without a preflight). A body-less POST is no exception. Calls with an API key carry no cookie
 * authority and are left to their key.
 */
export function sessionApiGuard(baseUrl: string, sessionCookie: string) {
  const origin = new URL(baseUrl).origin;
  return async function guard(request: FastifyRequest): Promise<void> {
    if (!request.url.startsWith('/api/') || SAFE_METHODS.has(request.method)) return;
    if (request.headers.authorization || !request.cookies?.[sessionCookie]) return;
    if (request.headers.origin !== origin) {
      throw new RelayError(
        'forbidden',
        'A request signed in with a session must come from Relay’s own pages (its Origin header)',
      );
    }
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new RelayError('unsupported-media-type', 'A request signed in with a session must send JSON');
    }
  };
}
