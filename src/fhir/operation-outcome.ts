/**
 * Every error of the FHIR API as an OperationOutcome: the same catalogue and statuses as the JSON
 * API's problem+json (src/errors.ts), each field problem an issue whose `expression` is the FHIRPath
 * of the element. Messages name elements and never echo what was sent.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { PROBLEM_TYPE_BASE, RelayError, type ErrorCode } from '../errors.ts';
import { relayErrorFor } from '../http/problem.ts';

/** FHIR's issue types (http://hl7.org/fhir/issue-type) for each of Relay's error codes. */
const ISSUE_TYPE: Record<ErrorCode, string> = {
  'validation-failed': 'invalid',
  'malformed-request': 'structure',
  'unsupported-media-type': 'not-supported',
  'payload-too-large': 'too-long',
  'invalid-query': 'invalid',
  unauthenticated: 'login',
  forbidden: 'forbidden',
  'not-found': 'not-found',
  'idempotency-conflict': 'duplicate',
  'state-conflict': 'conflict',
  'rate-limited': 'throttled',
  'service-unavailable': 'transient',
  'database-not-writable': 'transient',
  internal: 'exception',
};

/** The schema's wording for a missing field (src/referrals/referral.fields.ts): FHIR calls that `required`. */
const MISSING = 'This field is required.';

export const FHIR_JSON = 'application/fhir+json';

export function operationOutcome(error: RelayError) {
  const type = ISSUE_TYPE[error.code];
  // Relay's error code, as the JSON API's problem type names it (docs/api.md, Errors).
  const details = { coding: [{ system: PROBLEM_TYPE_BASE, code: error.code }] };
  const issue =
    error.errors && error.errors.length > 0
      ? error.errors.map((i) => ({
          severity: 'error',
          code: i.message === MISSING ? 'required' : type,
          details,
          diagnostics: i.message,
          expression: [i.path],
        }))
      : [{ severity: 'error', code: type, details, diagnostics: error.message }];
  return { resourceType: 'OperationOutcome', issue };
}

export function sendOutcome(reply: FastifyReply, error: RelayError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.status).type(FHIR_JSON).send(operationOutcome(error));
}

/** Within the FHIR API's plugin: every error and unknown path answered as an OperationOutcome. */
export function registerOutcomeHandlers(api: FastifyInstance): void {
  api.setErrorHandler((error: FastifyError, request, reply) =>
    sendOutcome(reply, relayErrorFor(error, request)),
  );
  api.setNotFoundHandler((request, reply) =>
    sendOutcome(
      reply,
      new RelayError('not-found', `Nothing at ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
