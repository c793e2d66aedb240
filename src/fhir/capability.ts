/** What GET /api/fhir/R4/metadata says Relay's FHIR API supports: exactly what fhir.routes.ts serves. */
import { BARS_EVENTS_SYSTEM, REFERRAL_REQUEST_EVENT } from './fhir.codes.ts';

export function capabilityStatement(baseUrl: string, date: string) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: 'Safeguard Relay',
    kind: 'instance',
    implementation: { description: 'Safeguard Relay FHIR R4 intake', url: `${baseUrl}/api/fhir/R4` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Send an API key as Authorization: Bearer <key>, as for the JSON API (docs/api.md).',
        security: {
          description:
            'API keys: referrals:write to raise; referrals:write or acknowledgements:write to read progress.',
        },
        resource: [
          {
            type: 'Task',
            interaction: [{ code: 'search-type' }],
            searchParam: [
              { name: 'focus', type: 'reference', documentation: 'ServiceRequest/{id}: required' },
            ],
          },
        ],
        operation: [
          {
            name: 'process-message',
            definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
          },
        ],
      },
    ],
    messaging: [
      {
        documentation: `Referral requests (${REFERRAL_REQUEST_EVENT} from ${BARS_EVENTS_SYSTEM}), answered synchronously.`,
        supportedMessage: [
          {
            mode: 'receiver',
            definition: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral',
          },
        ],
      },
    ],
  };
}
