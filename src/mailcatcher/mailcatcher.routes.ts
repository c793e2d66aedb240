import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { listReadable, readMessage, type Reader } from './mailbox.access.ts';

/** The catcher's API answers a signed-in person (the session cookie) only; an API key is no one's mailbox. */
function reader(request: FastifyRequest): Reader {
  if (!request.user) throw new RelayError('unauthenticated', 'Sign in to read the mail catcher');
  return request.user;
}

/**
 * The caught emails, for the embedded default only (registered only while the mail catcher runs:
 * `relay start --demo` or MAILCATCHER=on, never in production). Each person sees only the emails
 * addressed to them or their team; reading one in full is audited.
 */
export function registerMailCatcherRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/api/v1/mailcatcher/messages', async (request) => ({
    items: await listReadable(ctx, reader(request)),
  }));

  app.get<{ Params: { id: string } }>('/api/v1/mailcatcher/messages/:id', async (request) => {
    const message = await readMessage(ctx, reader(request), request.params.id, 'api');
    if (!message) throw new RelayError('not-found', 'No caught message with that id');
    return message;
  });
}
