/**
 * What a referral can be found by, as normalised values: the same normalisation is applied to what
 * is stored and to what a person types, so "sw1a 1aa" finds SW1A1AA and "943 476 5919" finds
 * 9434765919. These values are personal data: they are only ever stored as keyed digests
 * (search-index.ts), never as they are.
 */

export const SEARCH_KINDS = ['name', 'full-name', 'dob', 'nhs', 'incident', 'postcode'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface SearchTerm {
  kind: SearchKind;
  value: string;
}

/** The parts of a referral's payload that are indexed; anything else (a purged tombstone) has none. */
interface IndexedPayload {
  subject?: {
    givenName?: unknown;
    familyName?: unknown;
    dateOfBirth?: unknown;
    nhsNumber?: unknown;
    address?: { postcode?: unknown };
  };
  incident?: { number?: unknown; location?: { postcode?: unknown } };
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Case, diacritics, apostrophes, hyphens and runs of white space folded: "Zoë  O'Brien-Smith" is
 * "zoe obrien smith". Empty when nothing but letters and separators remains.
 */
export function foldName(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[\s\-.,]+/g, ' ')
    .trim();
}

const NAME_SHAPE = /^\p{L}+(?: \p{L}+)*$/u;

/** Upper case without spaces; the full postcode or its outward code alone. */
export function compactPostcode(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

const FULL_POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/;
const OUTWARD_CODE = /^[A-Z]{1,2}[0-9][A-Z0-9]?$/;

/** A full postcode gives itself and its outward code; an outward code alone (an incident's district), itself. */
function postcodeTerms(raw: string): SearchTerm[] {
  const compact = compactPostcode(raw);
  const full = FULL_POSTCODE.exec(compact);
  if (full) return [term('postcode', compact), term('postcode', full[1] as string)];
  return OUTWARD_CODE.test(compact) ? [term('postcode', compact)] : [];
}

export function normaliseIncidentNumber(raw: string): string {
  return raw.trim().toUpperCase();
}

const term = (kind: SearchKind, value: string): SearchTerm => ({ kind, value });

function nameTerms(given: string, family: string): SearchTerm[] {
  const full = foldName(`${given} ${family}`);
  if (!full) return [];
  return [term('full-name', full), ...full.split(' ').map((token) => term('name', token))];
}

/** Every term a stored referral is found by, each once. */
export function termsOfPayload(payload: IndexedPayload): SearchTerm[] {
  const subject = payload.subject;
  const terms: SearchTerm[] = [];
  if (subject) {
    terms.push(...nameTerms(text(subject.givenName), text(subject.familyName)));
    const dob = text(subject.dateOfBirth);
    if (dob) terms.push(term('dob', dob));
    const nhs = nhsDigits(text(subject.nhsNumber));
    if (nhs) terms.push(term('nhs', nhs));
    terms.push(...postcodeTerms(text(subject.address?.postcode)));
  }
  const incident = normaliseIncidentNumber(text(payload.incident?.number));
  if (incident) terms.push(term('incident', incident));
  terms.push(...postcodeTerms(text(payload.incident?.location?.postcode)));
  return unique(terms);
}

function unique(terms: SearchTerm[]): SearchTerm[] {
  const seen = new Set<string>();
  return terms.filter((t) => {
    const key = `${t.kind}\u0000${t.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Ten digits, however grouped by spaces or dashes; empty for anything else. */
function nhsDigits(raw: string): string {
  if (!/^\d(?:[\s-]*\d)*$/.test(raw.trim())) return '';
  const digits = raw.replace(/[\s-]+/g, '');
  return digits.length === 10 ? digits : '';
}

/**
 * One way what a person typed could match: every term of `allOf` must be among a referral's terms.
 * A name typed as several words matches a referral holding each of them, in any order.
 */
export interface SearchProbe {
  kind: SearchKind;
  allOf: SearchTerm[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;

/** 1939-03-07, 07/03/1939, 7-3-1939, 7.3.1939 or 7 March 1939 (British day-first order), as ISO. */
export function parseDateOfBirth(raw: string): string | undefined {
  const s = raw.trim().toLowerCase();
  let parts: [number, number, number] | undefined;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  const numeric = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  const worded = /^(\d{1,2}) ([a-z]+) (\d{4})$/.exec(s.replace(/\s+/g, ' '));
  if (iso) parts = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (numeric) parts = [Number(numeric[3]), Number(numeric[2]), Number(numeric[1])];
  else if (worded) {
    const month = MONTHS.findIndex((m) => (worded[2] as string).startsWith(m)) + 1;
    if (month > 0) parts = [Number(worded[3]), month, Number(worded[1])];
  }
  if (!parts) return undefined;
  const [y, m, d] = parts;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    return undefined;
  return date.toISOString().slice(0, 10);
}

/**
 * Every kind the search box's text could be, each as a probe: a referral matching any probe is
 * found. Only whole values match (a blind index cannot match part of a name).
 */
export function probesOf(raw: string): SearchProbe[] {
  const probes: SearchProbe[] = [];
  const name = foldName(raw);
  if (name && NAME_SHAPE.test(name)) {
    probes.push({ kind: 'name', allOf: name.split(' ').map((token) => term('name', token)) });
    if (name.includes(' ')) probes.push({ kind: 'full-name', allOf: [term('full-name', name)] });
  }
  const dob = parseDateOfBirth(raw);
  if (dob) probes.push({ kind: 'dob', allOf: [term('dob', dob)] });
  const nhs = nhsDigits(raw);
  if (nhs) probes.push({ kind: 'nhs', allOf: [term('nhs', nhs)] });
  for (const postcode of postcodeTerms(raw).slice(0, 1)) probes.push({ kind: 'postcode', allOf: [postcode] });
  const incident = normaliseIncidentNumber(raw);
  if (incident) probes.push({ kind: 'incident', allOf: [term('incident', incident)] });
  return probes;
}
