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

/** An item of an array, or an object's key that is all digits, is judged by the field that holds it. */
const INDEX = /^\d+$/;

/** A container's place: its key and its parent's place. A path is spelt out only for a problem. */
interface Place {
  key: string;
  parent: Place | undefined;
}

function pathOf(parent: Place | undefined, key: string | undefined): string {
  const keys = key === undefined ? [] : [key];
  for (let p = parent; p; p = p.parent) keys.push(p.key);
  return keys.reverse().map(printable).join('.');
}

/**
 * The field problems in one part of the request, at most one per field. With `lineBreaks: false`
 * only control characters are looked for: for a body whose field names are not the referral's
 * (a FHIR Bundle), which its route checks again once it has mapped it onto them.
 *
 * One walk over every string of the body, query or path parameters (and every key), each judged by
 * its field. Iterative, so a deeply nested body cannot exhaust the stack; it keeps a place for each
 * object or array only, not a path for each string, since most requests have no problem to name.
 */
export function controlCharacterIssues(root: unknown, options: { lineBreaks?: boolean } = {}): FieldIssue[] {
  const judge = (value: string, field: string) =>
    options.lineBreaks === false ? controlProblem(value) : textProblem(value, field);
  const issues: FieldIssue[] = [];
  const values: unknown[] = [root];
  const fields: string[] = [''];
  const parents: (Place | undefined)[] = [undefined];
  const keys: (string | undefined)[] = [undefined];
  while (values.length > 0) {
    const value = values.pop();
    const field = fields.pop() as string;
    const parent = parents.pop();
    const key = keys.pop();
    if (typeof value === 'string') {
      const problem = judge(value, field);
      if (problem) issues.push({ path: pathOf(parent, key), message: problem });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const place = key === undefined ? parent : { key, parent };
    const array = Array.isArray(value);
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      // A key is a single line of its own, reported under its own (printable) name.
      if (!array && (CONTROL.test(k) || LINE_BREAK.test(k))) {
        const problem = judge(k, printable(k));
        if (problem) issues.push({ path: pathOf(place, k), message: problem });
      }
      values.push((value as Record<string, unknown>)[k]);
      fields.push(array || INDEX.test(k) ? field : k);
      parents.push(place);
      keys.push(k);
    }
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
