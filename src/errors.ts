/**
 * The one catalogue of errors a client can see. Each code has a stable problem type, an HTTP status
 * and a title; docs/api.md documents every code (a test keeps the two in step).
 * Messages never carry personal data: they name fields, never echo values.
 */
export const errorCatalogue = {
  'validation-failed': { status: 422, title: 'The request has invalid fields' },
  'malformed-request': { status: 400, title: 'The request body is not valid JSON' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'invalid-query': { status: 400, title: 'The query parameters are invalid' },
  unauthenticated: { status: 401, title: 'A valid API key or session is required' },
  forbidden: { status: 403, title: 'This key or account may not do that' },
  'not-found': { status: 404, title: 'No such resource' },
  'idempotency-conflict': {
    status: 409,
    title: 'A referral with this source system and reference already exists with a different body',
  },
  'state-conflict': { status: 409, title: 'The resource is not in a state that allows this' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'service-unavailable': { status: 503, title: 'Relay cannot accept this request right now' },
  'database-not-writable': { status: 503, title: 'The database is not accepting writes' },
  internal: { status: 500, title: 'Something went wrong in Relay' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FieldIssue {
  path: string;
  message: string;
}

export const PROBLEM_TYPE_BASE = 'https://safeguard-relay.example/problems/';

export class RelayError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly errors?: FieldIssue[],
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(detail ?? errorCatalogue[code].title, options);
    this.status = errorCatalogue[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldIssue[];
}

export function problemFor(code: ErrorCode, detail?: string, errors?: FieldIssue[]): Problem {
  const entry = errorCatalogue[code];
  return {
    type: PROBLEM_TYPE_BASE + code,
    title: entry.title,
    status: entry.status,
    detail: detail ?? entry.title,
    ...(errors ? { errors } : {}),
  };
}

/** Normalises anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : 'Non-error thrown', { cause: thrown });
}
