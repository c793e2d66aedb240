import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { isValidIsoDate, londonToInstant } from '../../directory/hours.ts';
import { REFERRAL_STATUSES } from '../../records/referral.status.ts';
import { referralStatus } from './labels.ts';
import { errorList, formField, namesIn } from './page.helpers.ts';
import { searchReferrals, type SearchFilter } from './search.queries.ts';

const RESULT_LIMIT = 100;
const FULL_REFERENCE = /^SR-[0-9]{4}-[0-9]{6}$/;

type SearchQuery = Partial<Record<'q' | 'from' | 'to' | 'authority' | 'status', string>>;

export const SEARCH_FIELD_IDS = { q: 'q', from: 'from', to: 'to', authority: 'authority', status: 'status' };

/**
 * Reads the search form into a filter, naming every field it cannot use. Dates are London days,
 * so "to 25 November" includes that whole day as the team lived it.
 */
export function parseSearch(
  query: SearchQuery,
  authorityIds: ReadonlySet<string>,
): { filter: SearchFilter; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const filter: SearchFilter = { limit: RESULT_LIMIT + 1 };
  const q = formField(query, 'q').toUpperCase();
  if (q && !/^[A-Z0-9-]+$/.test(q)) errors.q = 'Enter a reference using only letters, numbers and hyphens';
  else if (FULL_REFERENCE.test(q)) filter.reference = q;
  else if (q) filter.referencePart = q;
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
  return { filter, errors };
}

/** GET /safeguarding/search: by reference (whole or part), received dates, authority and status. */
export function registerSearchPage(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: SearchQuery }>('/safeguarding/search', async (request, reply) => {
    const directory = (await ctx.directories.current())?.directory;
    const authorities = [...(directory?.authorities ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    const { filter, errors } = parseSearch(request.query, new Set(authorities.map((a) => a.id)));
    const failed = Object.keys(errors).length > 0;
    const found = failed ? [] : await searchReferrals(ctx.db.kysely, filter);
    const names = namesIn(directory);
    return reply.code(failed ? 400 : 200).page('safeguarding/search.njk', {
      pageTitle: `${failed ? 'Error: ' : ''}Search referrals`,
      query: Object.fromEntries(Object.keys(SEARCH_FIELD_IDS).map((k) => [k, formField(request.query, k)])),
      searched: Object.keys(SEARCH_FIELD_IDS).some((k) => formField(request.query, k) !== ''),
      authorityItems: [
        { value: '', text: 'Any authority' },
        ...authorities.map((a) => ({ value: a.id, text: a.name })),
      ],
      statusItems: [
        { value: '', text: 'Any status' },
        ...REFERRAL_STATUSES.map((s) => ({ value: s, text: referralStatus(s) })),
      ],
      results: found.slice(0, RESULT_LIMIT).map((r) => ({
        ...r,
        authorityNames: r.authorities.map((id) => names.authority(id)),
      })),
      more: found.length > RESULT_LIMIT,
      limit: RESULT_LIMIT,
      errors,
      errorList: errorList(errors, SEARCH_FIELD_IDS),
    });
  });
}
