import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { appendAudit } from '../../records/audit.ts';
import { csvCell } from '../../governance/review.csv.ts';
import { userNames } from '../../governance/review.queries.ts';
import { auditEntries, type AuditFilter } from './audit.queries.ts';
import { parseAuditQuery } from './audit.pages.ts';

const COLUMNS = ['seq', 'at', 'actor', 'actor_name', 'action', 'entity_type', 'entity_id', 'detail'];

/**
 * GET /audit.csv (registered in the auditor's area): the entries the audit page's filter matches, oldest first, as CSV for a
 * spreadsheet or an external review. Streamed in batches, so a whole year is fine. The export is
 * itself audited (audit.exported, with the filter), since the file leaves Relay. A bad filter is
 * 400 with each problem named, as on the page.
 */
export function registerAuditCsv(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: Record<string, string> }>('/audit.csv', async (request, reply) => {
    const { filter, errors } = parseAuditQuery(request.query);
    if (Object.keys(errors).length > 0) {
      return reply.code(400).type('text/plain; charset=utf-8').send(Object.values(errors).join('\n'));
    }
    await ctx.db.kysely.transaction().execute((trx) =>
      appendAudit(trx, ctx.clock.now(), {
        actor: `user:${request.user?.id ?? 'unknown'}`,
        action: 'audit.exported',
        entityType: 'audit_log',
        entityId: 'csv',
        detail: { ...filter },
      }),
    );
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="relay-audit-log.csv"')
      .header('cache-control', 'no-store')
      .send(Readable.from(csvLines(ctx, filter)));
  });
}

async function* csvLines(ctx: RelayContext, filter: AuditFilter): AsyncGenerator<string> {
  yield `\uFEFF${COLUMNS.join(',')}\r\n`;
  const names = new Map<string, string>();
  for await (const row of auditEntries(ctx.db.kysely, filter)) {
    const userId = row.actor.startsWith('user:') ? row.actor.slice(5) : undefined;
    if (userId && !names.has(userId)) {
      names.set(userId, (await userNames(ctx.db.kysely, [userId])).get(userId) ?? '');
    }
    const cells = [
      row.seq,
      row.at,
      row.actor,
      userId ? (names.get(userId) ?? '') : '',
      row.action,
      row.entity_type,
      row.entity_id,
      row.detail,
    ];
    yield `${cells.map(csvCell).join(',')}\r\n`;
  }
}
