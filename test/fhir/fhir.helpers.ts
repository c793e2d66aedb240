import { readFileSync } from 'node:fs';
import type { TestRelay } from '../helpers/relay.ts';

/** The example bundle of docs/api.md (FHIR): docs/examples/referral-bundle.json, read afresh. */
export const EXAMPLE_BUNDLE_PATH = new URL('../../docs/examples/referral-bundle.json', import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a FHIR Bundle, edited freely by tests
export type Bundle = any;

let made = 0;

/**
 * The documented example as the test ePCR sends it (source name `test-epcr`, the system its key is
 * bound to), with an identifier of its own unless `reference` names one.
 */
export function exampleBundle(reference?: string): Bundle {
  made += 1;
  const bundle = JSON.parse(readFileSync(EXAMPLE_BUNDLE_PATH, 'utf8')) as Bundle;
  bundle.entry[0].resource.source.name = 'test-epcr';
  bundle.identifier.value = reference ?? `FHIR-${process.pid}-${made}`;
  return bundle;
}

/** The first entry of the bundle with this resource type. */
export function resourceOf(bundle: Bundle, type: string): Bundle {
  return bundle.entry.find((e: Bundle) => e.resource.resourceType === type).resource;
}

export function fhirClient(relay: TestRelay) {
  return {
    send(payload: unknown, key: string | null = relay.epcrKey, type = 'application/fhir+json') {
      return relay.app.inject({
        method: 'POST',
        url: '/api/fhir/R4/$process-message',
        headers: { 'content-type': type, ...(key ? { authorization: `Bearer ${key}` } : {}) },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
    },
    tasks(referralId: string, key: string = relay.epcrKey) {
      return relay.app.inject({
        method: 'GET',
        url: `/api/fhir/R4/Task?focus=ServiceRequest/${referralId}`,
        headers: { authorization: `Bearer ${key}` },
      });
    },
  };
}

/** The referral id a response message's Tasks focus on. */
export function referralIdOf(response: { json(): unknown }): string {
  const bundle = response.json() as Bundle;
  const task = bundle.entry.find((e: Bundle) => e.resource.resourceType === 'Task').resource;
  return String(task.focus.reference).replace('ServiceRequest/', '');
}

/** Each issue of an OperationOutcome answer as `expression: diagnostics`. */
export function issuesOf(response: {
  json(): unknown;
}): { expression: string; code: string; diagnostics: string }[] {
  const outcome = response.json() as Bundle;
  if (outcome.resourceType !== 'OperationOutcome')
    throw new Error(`not an OperationOutcome: ${JSON.stringify(outcome)}`);
  return outcome.issue.map((i: Bundle) => ({
    expression: i.expression?.[0] ?? '',
    code: i.code,
    diagnostics: i.diagnostics,
  }));
}
