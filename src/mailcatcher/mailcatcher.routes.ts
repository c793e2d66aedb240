import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';

/**
 * The caught emails, for the embedded default only (registered only while the mail catcher runs,
 * which production never does because it requires SMTP_URL).
 */
export function registerMailCatcherRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/api/v1/mailcatcher/messages', async () => {
    const rows = await ctx.db.kysely
      .selectFrom('caught_messages')
      .select(['id', 'received_at', 'envelope_from', 'envelope_to', 'message_id', 'subject'])
      .orderBy('received_at', 'desc')
      .limit(200)
      .execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        receivedAt: r.received_at,
        from: r.envelope_from,
        to: JSON.parse(r.envelope_to) as string[],
        messageId: r.message_id,
        subject: r.subject,
      })),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/mailcatcher/messages/:id', async (request) => {
    const row = await ctx.db.kysely
      .selectFrom('caught_messages')
      .selectAll()
      .where('id', '=', request.params.id)
      .executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No caught message with that id');
    return {
      id: row.id,
      receivedAt: row.received_at,
      from: row.envelope_from,
      to: JSON.parse(row.envelope_to) as string[],
      messageId: row.message_id,
      subject: row.subject,
      text: row.text,
      html: row.html,
    };
  });
}
