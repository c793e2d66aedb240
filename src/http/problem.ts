import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseNotWritable } from '../db/writable.ts';
import { errorCatalogue, problemFor, RelayError, type ErrorCode } from '../errors.ts';

/** Pages get an HTML error page; the API, health and metrics get problem+json. */
function wantsPage(reply: FastifyReply): boolean {
  const url = reply.request.url;
  return (
    !url.startsWith('/api/') && !/^\/(healthz|readyz|metrics)\b/.test(url) && typeof reply.page === 'function'
  );
}

export function sendProblem(reply: FastifyReply, error: RelayError): FastifyReply | Promise<FastifyReply> {
  if (wantsPage(reply)) {
    const problem = problemFor(error.code, error.detail, error.errors);
    return reply.code(error.status).page('errors/error.njk', { pageTitle: problem.title, problem });
  }
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
    case 403:
      return 'forbidden';
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

// Connection-level failures: retrying later is the right answer, and no half-written referral exists.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'SQLITE_BUSY',
  '57P01', // terminating connection due to administrator command (a restart)
  '57P02',
  '57P03', // the database system is starting up / shutting down
  '53300', // too many connections: another node will answer, or this one shortly
  '08000',
  '08003',
  '08006',
]);

function isDatabaseUnavailable(error: { code?: string; message?: string }): boolean {
  return (
    (error.code !== undefined && UNAVAILABLE_CODES.has(error.code)) ||
    // pg's own messages while the server restarts: a socket closed under a query, a pooled client
    // that already lost its connection, the pool's connectionTimeoutMillis running out.
    /Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(error.message ?? '')
  );
}

/**
 * Any error a route throws, as the catalogued RelayError the client is told about. Unexpected ones
 * are logged without request data. The API's problem+json and the FHIR API's OperationOutcome
 * (src/fhir/) both answer with what this decides.
 */
export function relayErrorFor(error: FastifyError, request: FastifyRequest): RelayError {
  if (error instanceof RelayError) return error;
  if (isDatabaseNotWritable(error)) {
    // Read-only or full: an operator must act, so it is a warning in the log, and a client retries.
    request.log.warn({ err: { code: error.code } }, 'database not writable');
    return new RelayError(
      'database-not-writable',
      'The database is read-only or full; nothing was accepted. Try again later.',
      undefined,
      { retryAfterSeconds: 30 },
    );
  }
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: { code: error.code } }, 'database unavailable');
    return new RelayError(
      'service-unavailable',
      'The database is unavailable; nothing was accepted',
      undefined,
      {
        retryAfterSeconds: 5,
      },
    );
  }
  const code = codeForFastifyError(error);
  if (code) {
    const detail = code === 'malformed-request' ? 'The request body could not be read as JSON' : undefined;
    return new RelayError(code, detail);
  }
  request.log.error({ err: { type: error.name, code: error.code, stack: error.stack } }, 'unhandled error');
  return new RelayError('internal', 'The error has been logged; nothing was accepted');
}

/** Every error leaves as RFC 9457 problem+json; unexpected ones are logged without request data. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendProblem(reply, relayErrorFor(error, request)),
  );
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
