import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { isValidIsoDate, londonToInstant } from '../../directory/hours.ts';
import { verifyAuditChain, type VerifyResult } from '../../records/audit.ts';
import { userNames } from '../../governance/review.queries.ts';
import { errorList, formField } from '../safeguarding/page.helpers.ts';
import { auditPage, type AuditFilter, type AuditPageRequest, type AuditRow } from './audit.queries.ts';

const FIELDS = ['action', 'actor', 'entityType', 'entityId', 'from', 'to'] as const;
type Field = (typeof FIELDS)[number];
type AuditQuery = Partial<Record<Field | 'before' | 'after' | 'verify', string>>;

export const AUDIT_FIELD_IDS: Record<Field, string> = {
  action: 'action',
  actor: 'actor',
  entityType: 'entity-type',
  entityId: 'entity-id',
  from: 'from',
  to: 'to',
};

const TEXT_MAX = 200;

/** The filter form as a query, naming every field it cannot use. Dates are whole London days. */
export function parseAuditQuery(query: AuditQuery) {
  const values = Object.fromEntries(FIELDS.map((f) => [f, formField(query, f)])) as Record<Field, string>;
  const errors: Record<string, string> = {};
  const filter: AuditFilter = {};
  for (const f of ['action', 'actor', 'entityType', 'entityId'] as const) {
    if (values[f].length > TEXT_MAX) errors[f] = `Enter ${TEXT_MAX} characters or fewer`;
    else if (values[f]) filter[f] = values[f];
  }
  if (values.from && !isValidIsoDate(values.from)) errors.from = 'The from date must be a real date';
  else if (values.from) filter.from = londonToInstant(values.from, '00:00').toISOString();
  if (values.to && !isValidIsoDate(values.to)) errors.to = 'The to date must be a real date';
  else if (values.to) filter.to = londonToInstant(values.to, '24:00').toISOString();
  if (filter.from && filter.to && filter.to <= filter.from)
    errors.to = 'The to date must be the same as or after the from date';
  const seq = (text: string | undefined) =>
    text && /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : undefined;
  const page: AuditPageRequest = { before: seq(query.before), after: seq(query.after) };
  return { values, filter, page, errors };
}

/** An entry's detail (ids, states, reasons) as key: value pairs. */
function detailPairs(detail: string): { key: string; value: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return [{ key: 'detail', value: detail }];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return [{ key: 'detail', value: detail }];
  return Object.entries(parsed as Record<string, unknown>).map(([key, v]) => ({
    key,
    value: v === null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v),
  }));
}

async function entriesView(ctx: RelayContext, rows: AuditRow[]) {
  const ids = rows.filter((r) => r.actor.startsWith('user:')).map((r) => r.actor.slice(5));
  const names = await userNames(ctx.db.kysely, ids);
  return rows.map((r) => ({
    ...r,
    actorName: r.actor.startsWith('user:') ? names.get(r.actor.slice(5)) : undefined,
    pairs: detailPairs(r.detail),
  }));
}

function verdictView(result: VerifyResult) {
  return result.ok
    ? { ok: true, text: `The audit chain is intact: ${result.entries} entries.`, headHash: result.headHash }
    : {
        ok: false,
        text: `The audit chain is broken at entry ${result.brokenAt}: ${result.problem}.`,
        entries: result.entries,
      };
}

/**
 * GET /audit: the audit log for the auditor, newest first, filtered, with `relay audit verify`'s
 * verdict on request. Viewing the log is not itself audited: it holds no personal data.
 */
export function registerAuditPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: AuditQuery }>('/audit', async (request, reply) => {
    const { values, filter, page, errors } = parseAuditQuery(request.query);
    const failed = Object.keys(errors).length > 0;
    const found = failed ? undefined : await auditPage(ctx.db.kysely, filter, page);
    // Verifying reads and hashes the whole chain (measured: about 1 s per 200,000 entries on
    // SQLite, 1.5 s on PostgreSQL), so it runs only when asked, not on every page of the log.
    const verdict =
      request.query.verify === '1' ? verdictView(await verifyAuditChain(ctx.db.kysely)) : undefined;
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    const link = (extra: Record<string, string> = {}) =>
      `/audit?${new URLSearchParams({ ...given, ...extra }).toString()}`.replace(/\?$/, '');
    return reply.code(failed ? 400 : 200).page('audit/log.njk', {
      pageTitle: `${failed ? 'Error: ' : ''}Audit log`,
      values,
      filtered: Object.keys(given).length > 0,
      paged: page.before !== undefined || page.after !== undefined,
      newestUrl: link(),
      entries: found ? await entriesView(ctx, found.rows) : [],
      olderUrl:
        found?.older && found.oldest !== undefined ? link({ before: String(found.oldest) }) : undefined,
      newerUrl:
        found?.newer && found.newest !== undefined ? link({ after: String(found.newest) }) : undefined,
      verifyUrl: link({ verify: '1' }),
      csvUrl: `/audit.csv?${new URLSearchParams(given).toString()}`.replace(/\?$/, ''),
      verdict,
      errors,
      errorList: errorList(errors, AUDIT_FIELD_IDS),
    });
  });
}
