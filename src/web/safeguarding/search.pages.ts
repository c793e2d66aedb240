import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { isValidIsoDate, londonToInstant } from '../../directory/hours.ts';
import { REFERRAL_STATUSES } from '../../records/referral.status.ts';
import { referralStatus } from './labels.ts';
import { errorList, formField, namesIn, signedInUser } from './page.helpers.ts';
import {
  countReferrals,
  digestsHeld,
  searchReferrals,
  type SearchFilter,
  type SearchResult,
} from './search.queries.ts';
import type { DataKey } from '../../config.ts';
import type { User } from '../../access/user.service.ts';
import { appendAudit } from '../../records/audit.ts';
import { newestKey } from '../../records/field-crypto.ts';
import { digestsUnderEveryKey, termDigest } from '../../records/search-index.ts';
import { probesOf, type SearchKind, type SearchProbe } from '../../records/search-terms.ts';

const RESULT_LIMIT = 100;
/** Past this many, the page says "more than 1,000": nobody reads further, and counting on costs time. */
const COUNT_LIMIT = 1000;
const Q_MAX = 100;
const FULL_REFERENCE = /^SR-[0-9]{4}-[0-9]{6}$/;

type SearchQuery = Partial<Record<'q' | 'from' | 'to' | 'authority' | 'status', string>>;

export const SEARCH_FIELD_IDS = { q: 'q', from: 'from', to: 'to', authority: 'authority', status: 'status' };

/** A reference's shape, one character class a place: SR-, the year, a hyphen, a serial of 6 digits (7 past a million). */
const REFERENCE_SHAPE = ['S', 'R', '-', ...'dddd', '-', ...'ddddddd'];

/**
 * Whether the text, with a digit in it, fits somewhere inside a reference. A part is found by reading
 * every reference (no index serves LIKE '%part%'), so only text that could be one pays for that:
 * a postcode (B15), an NHS number (ten digits) or a date of birth (1939-04-12) cannot, and a name
 * has no digit.
 */
export function couldBePartOfReference(q: string): boolean {
  if (!/[0-9]/.test(q)) return false;
  const fits = (c: string, place: string) => (place === 'd' ? c >= '0' && c <= '9' : c === place);
  for (let start = 0; start + q.length <= REFERENCE_SHAPE.length; start++) {
    if ([...q].every((c, k) => fits(c, REFERENCE_SHAPE[start + k] as string))) return true;
  }
  return false;
}

/**
 * Reads the search form into a filter, naming every field it cannot use. Dates are London days,
 * so "to 25 November" includes that whole day as the team lived it.
 */
export function parseSearch(
  query: SearchQuery,
  authorityIds: ReadonlySet<string>,
  keys: readonly DataKey[],
): { filter: SearchFilter; errors: Record<string, string>; probes: SearchProbe[] } {
  const errors: Record<string, string> = {};
  const filter: SearchFilter = { limit: RESULT_LIMIT + 1 };
  const raw = formField(query, 'q');
  const q = raw.toUpperCase();
  let probes: SearchProbe[] = [];
  if (raw.length > Q_MAX) errors.q = `Search for ${Q_MAX} characters or fewer`;
  else if (FULL_REFERENCE.test(q)) filter.reference = q;
  else if (raw) {
    if (couldBePartOfReference(q)) filter.referencePart = q;
    probes = probesOf(raw);
    filter.termGroups = probes.map((p) => p.allOf.map((term) => digestsUnderEveryKey(keys, term)));
  }
  const from = formField(query, 'from');
  const to = formField(query, 'to');
  if (from && !isValidIsoDate(from)) errors.from = 'Enter a real date for "Received from"';
  else if (from) filter.from = londonToInstant(from, '00:00').toISOString();
  if (to && !isValidIsoDate(to)) errors.to = 'Enter a real date for "Received to"';
  else if (to) filter.to = londonToInstant(to, '24:00').toISOString();
  if (filter.from && filter.to && filter.to <= filter.from)
    errors.to = '"Received to" must be the same as or after "Received from"';
  const authority = formField(query, 'authority');
  if (authority && !authorityIds.has(authority)) errors.authority = 'Select an authority from the list';
  else if (authority) filter.authority = authority;
  const status = formField(query, 'status');
  if (status && !(REFERRAL_STATUSES as readonly string[]).includes(status))
    errors.status = 'Select a status from the list';
  else if (status) filter.status = status;
  return { filter, errors, probes };
}

/**
 * GET /safeguarding/search: one box for a reference (whole or part), a name, date of birth, NHS
 * number, incident number or postcode (whole values, matched through the keyed blind index), with
 * received dates, authority and status. Every search is audited like a view: who, which kinds,
 * how many found, and the digests of what was typed, never the text.
 */
export function registerSearchPage(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: SearchQuery }>('/safeguarding/search', async (request, reply) => {
    const directory = (await ctx.directories.current())?.directory;
    const authorities = [...(directory?.authorities ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    const { filter, errors, probes } = parseSearch(
      request.query,
      new Set(authorities.map((a) => a.id)),
      ctx.config.dataKeys,
    );
    const failed = Object.keys(errors).length > 0;
    const searched = Object.keys(SEARCH_FIELD_IDS).some((k) => formField(request.query, k) !== '');
    const found = failed ? [] : await searchReferrals(ctx.db.kysely, filter);
    const more = found.length > RESULT_LIMIT;
    // Only a list cut short needs counting; one that fits on the page is its own count.
    const total = more ? await countReferrals(ctx.db.kysely, filter, COUNT_LIMIT) : found.length;
    if (searched && !failed) await auditSearch(ctx, signedInUser(request), filter, probes, total);
    const names = namesIn(directory);
    const shown = await withMatches(ctx, found.slice(0, RESULT_LIMIT), filter, probes);
    // Found by personal data: the list of who matched is not kept by the browser.
    return reply
      .code(failed ? 400 : 200)
      .header('cache-control', 'no-store')
      .page('safeguarding/search.njk', {
        pageTitle: `${failed ? 'Error: ' : ''}Search referrals`,
        query: Object.fromEntries(Object.keys(SEARCH_FIELD_IDS).map((k) => [k, formField(request.query, k)])),
        searched,
        authorityItems: [
          { value: '', text: 'Any authority' },
          ...authorities.map((a) => ({ value: a.id, text: a.name })),
        ],
        statusItems: [
          { value: '', text: 'Any status' },
          ...REFERRAL_STATUSES.map((s) => ({ value: s, text: referralStatus(s) })),
        ],
        results: shown.map((r) => ({ ...r, authorityNames: r.authorities.map((id) => names.authority(id)) })),
        byValue: probes.length > 0,
        more,
        limit: RESULT_LIMIT,
        // "1,000", as people write it.
        total: Math.min(total, COUNT_LIMIT).toLocaleString('en-GB'),
        moreThanCounted: total > COUNT_LIMIT,
        errors,
        errorList: errorList(errors, SEARCH_FIELD_IDS),
      });
  });
}

/**
 * Audits a search as a view of the referrals it listed: who, the kinds the text was tried as, the
 * other filters, how many were found, and the digests (under the newest key) of what was typed, so
 * "who searched for this NHS number" can be answered by whoever holds the key, and by nobody else.
 */
async function auditSearch(
  ctx: RelayContext,
  user: User,
  filter: SearchFilter,
  probes: SearchProbe[],
  results: number,
): Promise<void> {
  const key = newestKey(ctx.config.dataKeys);
  const kinds = [
    ...(filter.reference ? ['reference'] : []),
    ...(filter.referencePart ? ['reference-part'] : []),
    ...probes.map((p) => p.kind),
  ];
  const filters = (['from', 'to', 'authority', 'status'] as const).filter((k) => filter[k] !== undefined);
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, ctx.clock.now(), {
      actor: `user:${user.id}`,
      action: 'referrals.searched',
      entityType: 'referral',
      entityId: '*',
      detail: {
        kinds,
        filters: Object.fromEntries(filters.map((k) => [k, filter[k]])),
        results: Math.min(results, RESULT_LIMIT),
        more: results > RESULT_LIMIT,
        matched: Math.min(results, COUNT_LIMIT),
        digests: probes.flatMap((p) => p.allOf.map((term) => termDigest(key, term))),
      },
    }),
  );
}

const MATCH_LABELS: Record<SearchKind | 'reference', string> = {
  reference: 'Reference',
  name: 'Name',
  'full-name': 'Name',
  dob: 'Date of birth',
  nhs: 'NHS number',
  incident: 'Incident number',
  postcode: 'Postcode',
};

/** Each result with what it was found by ("NHS number", "Postcode"…), so a lead can tell a postcode from an incident number. */
async function withMatches(
  ctx: RelayContext,
  results: SearchResult[],
  filter: SearchFilter,
  probes: SearchProbe[],
): Promise<(SearchResult & { matchedOn: string[] })[]> {
  const groups = filter.termGroups ?? [];
  const held = await digestsHeld(
    ctx.db.kysely,
    results.map((r) => r.id),
    groups.flat(2),
  );
  return results.map((r) => {
    const mine = held.get(r.id) ?? new Set<string>();
    const kinds: (SearchKind | 'reference')[] = probes.flatMap((p, i) =>
      (groups[i] ?? []).every((alternatives) => alternatives.some((d) => mine.has(d))) ? [p.kind] : [],
    );
    if (filter.referencePart && r.reference.includes(filter.referencePart)) kinds.unshift('reference');
    return { ...r, matchedOn: [...new Set(kinds.map((k) => MATCH_LABELS[k]))] };
  });
}
