import type { z } from 'zod';
import { RelayError, type FieldIssue } from '../errors.ts';

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

/** zod's issues as `{ path, message }`: dotted paths, plain messages, one per field problem. */
export function formatIssues(error: z.ZodError): FieldIssue[] {
  const seen = new Set<string>();
  return error.issues.flatMap(splitIssue).filter((issue) => {
    // A field can fail several checks at once (say, not an integer and too big); one message is enough.
    if (seen.has(issue.path)) return false;
    seen.add(issue.path);
    return true;
  });
}

function splitIssue(issue: z.core.$ZodIssue): FieldIssue[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    // The key goes in the path, so a client can point at it; the message stays free of submitted text.
    return issue.keys.map((key) => ({
      path: [...path, key].join('.'),
      message: 'Unknown field; check its spelling.',
    }));
  }
  return [{ path: path.join('.'), message: issue.message }];
}
