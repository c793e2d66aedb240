/**
 * The FHIR API in Relay's OpenAPI document (src/openapi.ts): its answers are FHIR JSON, errors
 * OperationOutcomes, so its operations document those rather than problem+json.
 */
import { errorCatalogue } from '../errors.ts';
import { FHIR_JSON } from './operation-outcome.ts';

const resource = (type: string, required: string[] = []) => ({
  type: 'object',
  required: ['resourceType', ...required],
  properties: { resourceType: { type: 'string', enum: [type] } },
});

export function fhirSchemas() {
  const outcome = resource('OperationOutcome', ['issue']);
  return {
    OperationOutcome: {
      ...outcome,
      properties: {
        ...outcome.properties,
        issue: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['severity', 'code'],
            properties: {
              severity: { type: 'string', enum: ['error'] },
              code: { type: 'string' },
              diagnostics: { type: 'string' },
              expression: {
                type: 'array',
                items: { type: 'string' },
                description: 'FHIRPath of the element',
              },
            },
          },
        },
      },
    },
    FhirBundle: { ...resource('Bundle', ['type']), additionalProperties: true },
  };
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

function fhirJson(description: string, schema: string) {
  return { description, content: { [FHIR_JSON]: { schema: { $ref: `#/components/schemas/${schema}` } } } };
}

function outcomes(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        ...fhirJson(
          Object.values(errorCatalogue)
            .filter((e) => e.status === status)
            .map((e) => e.title)
            .join('; '),
          'OperationOutcome',
        ),
        ...(status === 503 ? { headers: RETRY_AFTER } : {}),
      },
    ]),
  );
}

const requestBundle = {
  type: 'object',
  required: ['resourceType', 'id', 'type', 'entry'],
  properties: {
    resourceType: { type: 'string', enum: ['Bundle'] },
    id: { type: 'string' },
    type: { type: 'string', enum: ['message'] },
    identifier: { type: 'object', properties: { value: { type: 'string' } } },
    entry: { type: 'array', items: { type: 'object' } },
  },
};

export function fhirPaths() {
  return {
    '/api/fhir/R4/$process-message': {
      post: {
        summary:
          'Raise a referral as a BaRS referral request message (scope referrals:write); idempotent on MessageHeader.source.name + Bundle.identifier.value, as the JSON API on source.system + source.reference',
        requestBody: {
          required: true,
          content: { [FHIR_JSON]: { schema: requestBundle }, 'application/json': { schema: requestBundle } },
        },
        responses: {
          '201': fhirJson('The response message (code ok) with the referral’s Tasks', 'FhirBundle'),
          '200': fhirJson('The same message was already accepted: the same response', 'FhirBundle'),
          ...outcomes(400, 401, 403, 409, 413, 415, 422, 503),
        },
      },
    },
    '/api/fhir/R4/Task': {
      get: {
        summary: 'A referral’s progress, one Task per team (scope referrals:write or acknowledgements:write)',
        parameters: [
          {
            name: 'focus',
            in: 'query',
            required: true,
            schema: { type: 'string', pattern: '^ServiceRequest/[A-Za-z0-9\\-.]{1,64}$' },
          },
        ],
        responses: {
          '200': fhirJson('A searchset Bundle: empty for a referral this key may not read', 'FhirBundle'),
          ...outcomes(400, 401, 403, 422, 503),
        },
      },
    },
    '/api/fhir/R4/metadata': {
      get: {
        summary: 'The CapabilityStatement of the FHIR API (no key needed)',
        security: [],
        responses: {
          '200': {
            description: 'The CapabilityStatement',
            content: { [FHIR_JSON]: { schema: resource('CapabilityStatement') } },
          },
          ...outcomes(422, 503),
        },
      },
    },
  };
}
