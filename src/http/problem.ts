import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { errorCatalogue, problemFor, RelayError, type ErrorCode } from '../errors.ts';

export function sendProblem(reply: FastifyReply, error: RelayError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send(problemFor(error.code, error.detail, error.errors));
}

/** Fastify's own errors (body parsing, limits) mapped onto the catalogue by their status. */
function codeForFastifyError(error: FastifyError): ErrorCode | undefined {
  switch (error.statusCode) {
    case 400:
      return 'malformed-request';
    case 413:
      return 'payload-too-large';
    case 415:
      return 'unsupported-media-type';
    case 429:
      return 'rate-limited';
    default:
      return undefined;
  }
}

/** Every error leaves as RFC 9457 problem+json; unexpected ones are logged without request data. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof RelayError) return sendProblem(reply, error);
    const code = codeForFastifyError(error);
    if (code) {
      const detail = code === 'malformed-request' ? 'The request body could not be read as JSON' : undefined;
      return sendProblem(reply, new RelayError(code, detail));
    }
    request.log.error({ err: { type: error.name, code: error.code, stack: error.stack } }, 'unhandled error');
    return sendProblem(reply, new RelayError('internal', 'The error has been logged; nothing was accepted'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new RelayError('not-found', `Nothing at ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}

export function isCatalogued(code: string): code is ErrorCode {
  return code in errorCatalogue;
}
