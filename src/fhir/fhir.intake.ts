/**
 * `$process-message` for a referral request: the Bundle is mapped to the JSON API's body and handed
 * to the same intake (validation, idempotency on source system + reference, one transaction), so
 * the two doors cannot disagree. Field problems come back named by the FHIRPath of their element.
 */
import type { RelayContext } from '../context.ts';
import { RelayError, type FieldIssue } from '../errors.ts';
import { controlCharacterIssues } from '../http/control-characters.ts';
import {
  intakeReferral,
  validateReferral,
  type IntakeActor,
  type IntakeResult,
} from '../referrals/referral.service.ts';
import { MessageBundle } from './bundle.read.ts';
import { mapReferral, type ReferralMapping } from './referral.mapping.ts';

export interface ProcessedMessage extends IntakeResult {
  /** The request Bundle's id, which the response's MessageHeader.response.identifier names. */
  requestId: string;
}

export async function processReferralMessage(
  ctx: RelayContext,
  body: unknown,
  by: IntakeActor,
): Promise<ProcessedMessage> {
  const { bundle, header, request } = MessageBundle.read(body);
  const mapping = mapReferral(bundle, header, request);
  // The JSON API's rule for line breaks, by the referral's field names (only controls were refused so far).
  const text = controlCharacterIssues(mapping.input);
  if (mapping.issues.length > 0 || text.length > 0) throw everyProblem(mapping, text, ctx.clock.now());
  try {
    const result = await intakeReferral(ctx, mapping.input, by);
    return { ...result, requestId: String(bundle.root.value.id) };
  } catch (error) {
    if (error instanceof RelayError && error.errors) throw relocated(error, mapping);
    throw error;
  }
}

/** The schema's problems with the JSON path of each replaced by the FHIRPath of its element. */
function relocated(error: RelayError, mapping: ReferralMapping): RelayError {
  const issues = unique(
    error.errors?.map((i) => ({ path: mapping.expressionOf(i.path), message: i.message })) ?? [],
  );
  return new RelayError(error.code, error.detail, issues, { retryAfterSeconds: error.retryAfterSeconds });
}

/**
 * The mapping's own problems and, so that a sender sees everything at once, the schema's problems
 * with the rest: a field the mapping could not fill is reported once, by the mapping.
 */
function everyProblem(mapping: ReferralMapping, text: FieldIssue[], now: Date): RelayError {
  const covered = (path: string) =>
    mapping.issues.some((i) => path === i.field || path.startsWith(`${i.field}.`));
  const own: FieldIssue[] = mapping.issues.map((i) => ({ path: i.expression, message: i.message }));
  const schema = [...text, ...schemaProblems(mapping.input, now)].filter((i) => !covered(i.path));
  const rest = relocated(new RelayError('validation-failed', undefined, schema), mapping).errors ?? [];
  return new RelayError('validation-failed', 'The referral has invalid elements', unique([...own, ...rest]));
}

function schemaProblems(input: unknown, now: Date): FieldIssue[] {
  try {
    validateReferral(input, now);
    return [];
  } catch (error) {
    if (error instanceof RelayError) return error.errors ?? [];
    throw error;
  }
}

/** One problem per element, the first found: the mapping's, then the text's, then the schema's. */
function unique(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    if (seen.has(i.path)) return false;
    seen.add(i.path);
    return true;
  });
}
