import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorCatalogue, PROBLEM_TYPE_BASE } from './errors.ts';
import { StatusDocumentSchema, ReferralSummarySchema } from './referrals/referral.document.schema.ts';
import { ReferralInput } from './referrals/referral.schema.ts';
import { AckBody, OutcomeBody } from './response/response.routes.ts';
import {
  ClaimBody,
  CloseBody,
  ResolveBody,
  ListQuery as EscalationListQuery,
} from './assurance/escalation.routes.ts';
import { ListQuery as ReferralListQuery } from './referrals/referral.routes.ts';
import { DisputeBody } from './assurance/manifest.routes.ts';
import { fhirPaths, fhirSchemas } from './fhir/fhir.openapi.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });

/**
 * Query parameters from the zod schema the route validates them with, so their enums and bounds
 * are the ones enforced. A query string carries text: a coerced number is documented as an integer.
 */
function queryParameters(schema: z.ZodObject) {
  const properties = jsonSchema(schema, 'output').properties ?? {};
  return Object.entries(properties).map(([name, property]) => {
    const { default: _default, ...rest } = property as Record<string, unknown>;
    return { name, in: 'query', required: false, schema: rest };
  });
}

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', description: `${PROBLEM_TYPE_BASE}<code>` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};
/**
 * What any API request may be answered with, whatever the operation: 400 for a malformed body,
 * query or cursor, 401 and 403 for the key or session, 422 for a field (a control character in a
 * path, query or body, for one), 503 while the node drains or cannot reach its database.
 */
const ANY_REQUEST = [400, 401, 403, 422, 503];
/** And for an operation that reads a JSON body: too large, or not application/json. */
const WITH_BODY = [...ANY_REQUEST, 413, 415];

function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    [...new Set(statuses)].sort().map((status) => [
      String(status),
      {
        description: Object.values(errorCatalogue)
          .filter((e) => e.status === status)
          .map((e) => e.title)
          .join('; '),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        // 503 (shutting down, database unreachable, read-only or full) and 429 say when to retry.
        ...(status === 503 || status === 429 ? { headers: RETRY_AFTER } : {}),
      },
    ]),
  );
}

const statusDocument = {
  description: 'The referral status document',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusDocument' } } },
};

function jsonBody(schema: z.ZodType) {
  return { required: true, content: { 'application/json': { schema: jsonSchema(schema, 'input') } } };
}

const ok = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

/** The endpoints of teams and the safeguarding team, beside intake and status. */
function assurancePaths(idParam: object) {
  const team = { name: 'team', in: 'path', required: true, schema: { type: 'string' } };
  return {
    '/api/v1/referrals/{id}/acknowledgements': {
      post: {
        summary:
          'Acknowledge for the key’s team (scope acknowledgements:write), or as a signed-in recipient (session cookie, with Origin equal to BASE_URL’s and a JSON body). A repeat changes nothing.',
        parameters: [idParam],
        security: [{ apiKey: [] }, { session: [] }],
        requestBody: jsonBody(AckBody),
        responses: {
          '201': ok('Acknowledged'),
          '200': ok('Already acknowledged: the first acknowledgement'),
          ...problemResponses(...WITH_BODY, 404),
        },
      },
    },
    '/api/v1/referrals/{id}/outcomes': {
      post: {
        summary:
          'Record the team’s outcome (acknowledges first if needed); the referral closes when every team has one',
        parameters: [idParam],
        requestBody: jsonBody(OutcomeBody),
        responses: {
          '201': ok('Outcome recorded'),
          '200': ok('The same outcome again'),
          ...problemResponses(...WITH_BODY, 404, 409),
        },
      },
    },
    '/api/v1/escalations': {
      get: {
        summary:
          'Escalations with the team’s phone numbers (scope escalations:write); filter by state and reason',
        parameters: queryParameters(EscalationListQuery),
        responses: { '200': ok('Escalations, oldest first'), ...problemResponses(...ANY_REQUEST) },
      },
    },
    '/api/v1/escalations/{id}/claim': {
      post: {
        summary: 'Claim an open escalation for a named person',
        parameters: [idParam],
        requestBody: jsonBody(ClaimBody),
        responses: { '200': ok('Claimed'), ...problemResponses(...WITH_BODY, 404, 409) },
      },
    },
    '/api/v1/escalations/{id}/resolve': {
      post: {
        summary:
          'Resolve with a note; "receipt confirmed by phone" also acknowledges on the team’s behalf; followUpAt (at most 24 h away) is when Relay looks again whether the problem still stands',
        parameters: [idParam],
        requestBody: jsonBody(ResolveBody),
        responses: { '200': ok('Resolved'), ...problemResponses(...WITH_BODY, 404, 409) },
      },
    },
    '/api/v1/referrals/{id}/close': {
      post: {
        summary:
          'Close a referral with a reason (scope escalations:write): its escalations are resolved and none re-opens',
        parameters: [idParam],
        requestBody: jsonBody(CloseBody),
        responses: {
          '200': ok('Closed: { id, reference, status, closedAt, closedBy }'),
          ...problemResponses(...WITH_BODY, 404, 409),
        },
      },
    },
    '/api/v1/teams/{team}/manifest': {
      get: {
        summary: 'References sent to the team on a London day (default yesterday), for reconciliation',
        parameters: [
          team,
          { name: 'date', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
        ],
        responses: { '200': ok('The manifest'), ...problemResponses(...ANY_REQUEST) },
      },
    },
    '/api/v1/teams/{team}/manifest/disputes': {
      post: {
        summary: 'Dispute a reference on the manifest: opens an escalation',
        parameters: [team],
        requestBody: jsonBody(DisputeBody),
        responses: {
          '201': ok('Escalation opened'),
          '200': ok('Already disputed'),
          ...problemResponses(...WITH_BODY),
        },
      },
    },
  };
}

/** Present only while the embedded mail catcher runs (no SMTP_URL; never in production). */
function mailCatcherPaths(idParam: object) {
  return {
    '/api/v1/mailcatcher/messages': {
      get: {
        summary: 'Emails the embedded mail catcher caught, newest first (demo and development only)',
        security: [{ session: [] }, { apiKey: [] }],
        responses: {
          '200': ok('Caught emails, without their bodies'),
          ...problemResponses(...ANY_REQUEST, 404),
        },
      },
    },
    '/api/v1/mailcatcher/messages/{id}': {
      get: {
        summary: 'One caught email, with its text and HTML',
        parameters: [idParam],
        security: [{ session: [] }, { apiKey: [] }],
        responses: { '200': ok('The caught email'), ...problemResponses(...ANY_REQUEST, 404) },
      },
    },
  };
}

/** For load balancers and monitoring: no key needed. */
function probePaths() {
  const json = (description: string) => ok(description);
  return {
    '/healthz': {
      get: { summary: 'The process is up', security: [], responses: { '200': json('Up') } },
    },
    '/readyz': {
      get: {
        summary: 'Ready for traffic: each component’s state (database, mail, bounces, …)',
        security: [],
        responses: { '200': json('Ready'), '503': json('Not ready, or draining: the components say why') },
      },
    },
  };
}

/** The OpenAPI document, generated from the same zod schemas that validate and shape the API. */
export function openApiDocument() {
  const document = withUniversalProblems(baseDocument());
  // The FHIR API answers every error as an OperationOutcome, so its paths document their own.
  return {
    ...document,
    components: { ...document.components, schemas: { ...document.components.schemas, ...fhirSchemas() } },
    paths: { ...document.paths, ...fhirPaths() },
  };
}

/**
 * Answers any operation can give (docs/api.md, Errors): 422 for a control character in a path
 * parameter, query or body, and 415 for a body in a charset other than UTF-8.
 */
function withUniversalProblems<T extends { paths: Record<string, Record<string, unknown>> }>(document: T): T {
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as { requestBody?: unknown; responses: object }[]) {
      const extra = problemResponses(...(operation.requestBody ? [415, 422] : [422]));
      operation.responses = { ...extra, ...operation.responses };
    }
  }
  return document;
}

function baseDocument() {
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.0.3',
    info: { title: 'Safeguard Relay API', version: '1' },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'relay_session' },
      },
      schemas: {
        ReferralInput: jsonSchema(ReferralInput, 'input'),
        StatusDocument: jsonSchema(StatusDocumentSchema, 'output'),
        ReferralSummary: jsonSchema(ReferralSummarySchema, 'output'),
        Problem: problem,
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/api/v1/referrals': {
        post: {
          summary:
            'Raise a referral (scope referrals:write). Idempotent on source.system + source.reference.',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ReferralInput' } } },
          },
          responses: {
            '201': statusDocument,
            '200': { ...statusDocument, description: 'The same referral was already accepted' },
            ...problemResponses(...WITH_BODY, 409),
          },
        },
        get: {
          summary: 'List referrals visible to this key, oldest change first',
          parameters: queryParameters(ReferralListQuery),
          responses: {
            '200': {
              description: 'A page of referral summaries',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      items: { type: 'array', items: { $ref: '#/components/schemas/ReferralSummary' } },
                      nextCursor: { type: 'string', nullable: true },
                    },
                  },
                },
              },
            },
            ...problemResponses(...ANY_REQUEST),
          },
        },
      },
      '/api/v1/referrals/{id}': {
        get: {
          summary: 'The status document of one referral (by id or SR- reference)',
          parameters: [idParam],
          responses: { '200': statusDocument, ...problemResponses(...ANY_REQUEST, 404) },
        },
      },
      ...assurancePaths(idParam),
      ...mailCatcherPaths(idParam),
      ...probePaths(),
    },
  };
}

export function registerOpenApiRoute(app: FastifyInstance): void {
  const document = openApiDocument();
  app.get('/api/v1/openapi.json', async () => document);
}
