import type { z } from 'zod';
import { RelayError } from '../errors.ts';
import { formatIssues } from '../referrals/referral.schema.ts';

/**
 * Validates a JSON body (or query) against its schema, naming every field problem. A missing body
 * is read as `{}`, so the client hears which fields are required rather than a bare "invalid".
 */
export function parseRequest<T extends z.ZodType>(
  schema: T,
  value: unknown,
  code: 'validation-failed' | 'invalid-query' = 'validation-failed',
): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new RelayError(code, undefined, formatIssues(parsed.error));
  return parsed.data;
}
