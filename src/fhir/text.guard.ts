/**
 * The FHIR API's own control-character guard (the application's, in src/http/control-characters.ts,
 * leaves routes with `checksOwnText` alone): controls are refused anywhere, named by FHIRPath. Line
 * breaks are judged after mapping, by the referral's own field names (fhir.intake.ts), since a FHIR
 * `text` or `valueString` may be a concern or a name.
 */
import type { FastifyRequest } from 'fastify';
import { RelayError } from '../errors.ts';
import { controlCharacterIssues } from '../http/control-characters.ts';

export const CHECKS_OWN_TEXT = { config: { checksOwnText: true } };

/** `entry.2.resource.name.0.family` as `Bundle.entry[2].resource.name[0].family`. */
function fhirPathOf(dotted: string): string {
  return dotted
    .split('.')
    .reduce(
      (path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : `${path}.${segment}`),
      'Bundle',
    );
}

export async function refuseFhirControlCharacters(request: FastifyRequest): Promise<void> {
  const issues = [
    ...controlCharacterIssues(request.query),
    ...controlCharacterIssues(request.body, { lineBreaks: false }).map((i) => ({
      ...i,
      path: fhirPathOf(i.path),
    })),
  ];
  if (issues.length > 0) {
    throw new RelayError(
      'validation-failed',
      'Some elements contain characters Relay does not accept',
      issues,
    );
  }
}
