import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorCatalogue, PROBLEM_TYPE_BASE } from '../errors.ts';
import { StatusDocumentSchema, ReferralSummarySchema } from '../referrals/referral.document.schema.ts';
import { ReferralInput } from '../referrals/referral.schema.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });

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

function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: Object.values(errorCatalogue)
          .filter((e) => e.status === status)
          .map((e) => e.title)
          .join('; '),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      },
    ]),
  );
}

const statusDocument = {
  description: 'The referral status document',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusDocument' } } },
};

/** The OpenAPI document, generated from the same zod schemas that validate and shape the API. */
export function openApiDocument() {
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.0.3',
    info: { title: 'Safeguard Relay API', version: '1' },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
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
            ...problemResponses(400, 401, 403, 409, 413, 415, 422, 503),
          },
        },
        get: {
          summary: 'List referrals visible to this key, oldest change first',
          parameters: ['status', 'updatedSince', 'cursor', 'limit'].map((name) => ({
            name,
            in: 'query',
            required: false,
            schema: { type: name === 'limit' ? 'integer' : 'string' },
          })),
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
            ...problemResponses(400, 401, 403),
          },
        },
      },
      '/api/v1/referrals/{id}': {
        get: {
          summary: 'The status document of one referral (by id or SR- reference)',
          parameters: [idParam],
          responses: { '200': statusDocument, ...problemResponses(401, 403, 404) },
        },
      },
    },
  };
}

export function registerOpenApiRoute(app: FastifyInstance): void {
  const document = openApiDocument();
  app.get('/api/v1/openapi.json', async () => document);
}
