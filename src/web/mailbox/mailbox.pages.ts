import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import { requireRole } from '../auth/guards.ts';
import { ROLES } from '../auth/user.service.ts';
import { linkify } from './linkify.ts';

/**
 * Inside the frame the email's HTML may load nothing from anywhere (no tracking images, no fonts)
 * and, with the sandbox attribute, runs no script and gets an opaque origin.
 */
const FRAME_POLICY =
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">';

/**
 * The embedded default's demo inbox: what Relay "sent" through the built-in mail catcher.
 *
 * Any signed-in user may read it. That is acceptable only because these routes exist only while the
 * mail catcher runs: the embedded default on one machine, with demo data, where a newcomer plays
 * every role in turn. Production sets SMTP_URL (RELAY_ENV=production refuses to start without it),
 * so there the catcher never runs and /mailbox is a 404.
 */
export function registerMailboxPages(app: FastifyInstance, ctx: RelayContext): void {
  const signedIn = { preHandler: requireRole(...ROLES) };

  app.get('/mailbox', signedIn, async (_request, reply) => {
    const rows = await ctx.db.kysely
      .selectFrom('caught_messages')
      .select(['id', 'received_at', 'envelope_to', 'subject'])
      .orderBy('received_at', 'desc')
      .limit(200)
      .execute();
    const messages = rows.map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      to: (JSON.parse(r.envelope_to) as string[]).join(', '),
      subject: r.subject || '(no subject)',
    }));
    return reply.page('mailbox/list.njk', { pageTitle: 'Mailbox', messages });
  });

  app.get<{ Params: { id: string } }>('/mailbox/:id', signedIn, async (request, reply) => {
    const row = await ctx.db.kysely
      .selectFrom('caught_messages')
      .selectAll()
      .where('id', '=', request.params.id)
      .executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No caught email with that id');
    return reply.page('mailbox/message.njk', {
      pageTitle: row.subject || 'Email',
      message: {
        from: row.envelope_from,
        to: (JSON.parse(row.envelope_to) as string[]).join(', '),
        subject: row.subject || '(no subject)',
        receivedAt: row.received_at,
        messageId: row.message_id,
      },
      segments: linkify(row.text, ctx.config.baseUrl),
      srcdoc: row.html ? FRAME_POLICY + row.html : undefined,
    });
  });
}
