import type { FastifyRequest } from 'fastify';
import { RelayError, type FieldIssue } from '../errors.ts';

/**
 * C0 controls, DEL and C1 controls, except tab, line feed and carriage return. NUL in particular:
 * PostgreSQL cannot store it in text, so it was a 500 that an ePCR retries for ever; the rest have no business in a referral and can hide text from a reader.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** What would start a new line in a plain-text email or a log: refused outside free text. */
const LINE_BREAK = /[\t\n\r\u2028\u2029]/;

/**
 * The free-text fields, by their own name wherever they sit (API bodies and the web forms' fields):
 * these may hold line breaks and tabs. Every other string is a single line.
 */
const FREE_TEXT = new Set([
  'concern',
  'details',
  'allegedDetails',
  'overrideReason',
  'consentOverrideReason',
  'actionsTaken',
  'otherAgencies',
  'communicationNeeds',
  'description',
  'incidentLocation',
  'note',
  'reason',
  // The admin's directory import and the safeguarding team's reconciliation paste whole files.
  'json',
  'csv',
]);

function controlProblem(value: string): string | undefined {
  return CONTROL.test(value) ? 'Must not contain control characters' : undefined;
}

/** The first problem with one string, if any. */
export function textProblem(value: string, field: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  if (!FREE_TEXT.has(field) && LINE_BREAK.test(value))
    return 'Must be a single line (no line breaks or tabs)';
  return undefined;
}

// eslint-disable-next-line no-control-regex -- a field name is reported, so its own controls are blanked
const printable = (segment: string) => segment.replace(/[\u0000-\u001F\u007F-\u009F]/g, '?');

/**
 * Every string in a parsed body, query or path parameters, with its dotted path. Iterative, so a
 * deeply nested body cannot exhaust the stack.
 */
function* strings(root: unknown): Generator<{ path: string[]; value: string }> {
  const stack: { path: string[]; value: unknown }[] = [{ path: [], value: root }];
  while (stack.length > 0) {
    const { path, value } = stack.pop() as { path: string[]; value: unknown };
    if (typeof value === 'string') yield { path, value };
    else if (Array.isArray(value))
      value.forEach((v, i) => stack.push({ path: [...path, String(i)], value: v }));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (CONTROL.test(k) || LINE_BREAK.test(k)) yield { path: [...path, printable(k)], value: k };
        stack.push({ path: [...path, k], value: v });
      }
    }
  }
}

/** An item of an array, or an object's key that is all digits, is judged by the field that holds it. */
const INDEX = /^\d+$/;

/**
 * Whether any string could be a problem: a control character anywhere, or a line break in a field
 * that is not free text (or in a key). Most bodies have none, and this walk builds no paths: the
 * walk that names each field (`strings`) made a path array for every string of every request.
 */
function mayHaveIssues(root: unknown): boolean {
  const values: unknown[] = [root];
  const fields: string[] = [''];
  while (values.length > 0) {
    const value = values.pop();
    const field = fields.pop() as string;
    if (typeof value === 'string') {
      if (CONTROL.test(value) || (!FREE_TEXT.has(field) && LINE_BREAK.test(value))) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) {
        values.push(item);
        fields.push(field);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (CONTROL.test(key) || LINE_BREAK.test(key)) return true;
        values.push((value as Record<string, unknown>)[key]);
        fields.push(INDEX.test(key) ? field : key);
      }
    }
  }
  return false;
}

/**
 * The field problems in one part of the request, at most one per field. With `lineBreaks: false`
 * only control characters are looked for: for a body whose field names are not the referral's
 * (a FHIR Bundle), which its route checks again once it has mapped it onto them.
 */
export function controlCharacterIssues(root: unknown, options: { lineBreaks?: boolean } = {}): FieldIssue[] {
  if (!mayHaveIssues(root)) return [];
  const issues: FieldIssue[] = [];
  for (const { path, value } of strings(root)) {
    const field = path.at(-1) ?? '';
    // An array's items are judged by the field that holds them.
    const named = INDEX.test(field) ? (path.findLast((p) => !INDEX.test(p)) ?? '') : field;
    const problem = options.lineBreaks === false ? controlProblem(value) : textProblem(value, named);
    if (problem) issues.push({ path: path.map(printable).join('.'), message: problem });
  }
  return issues.sort((a, b) => a.path.localeCompare(b.path));
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route checks its own text (the FHIR API: its body's field names are not the referral's,
     * and it names what it refuses by FHIRPath), so the guard below leaves it alone.
     */
    checksOwnText?: boolean;
  }
}

/**
 * Refuses a request with control characters anywhere in its path parameters, query or body: 422,
 * naming each field (an API client gets problem+json, a browser the error page).
 */
export async function refuseControlCharacters(request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config.checksOwnText === true) return;
  const issues = [
    ...controlCharacterIssues(request.params),
    ...controlCharacterIssues(request.query),
    ...controlCharacterIssues(request.body),
  ];
  if (issues.length > 0)
    throw new RelayError('validation-failed', 'Some fields contain characters Relay does not accept', issues);
}

/** The charsets Relay reads a body in. Anything else would be misread as UTF-8, so it is 415. */
const CHARSETS = new Set(['utf-8', 'utf8']);

/** Refuses a body declared in a charset other than UTF-8 (or a charset that is not declared at all). */
export async function refuseOtherCharsets(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'];
  if (!type || !hasBody) return;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)?.[1];
  if (charset !== undefined && !CHARSETS.has(charset.toLowerCase())) {
    throw new RelayError('unsupported-media-type', 'The request body must be UTF-8 (charset=utf-8)');
  }
}
