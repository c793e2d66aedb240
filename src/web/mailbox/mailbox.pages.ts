import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { RelayError } from '../../errors.ts';
import type { User } from '../../access/user.service.ts';
import { listReadable, readMessage } from '../../mailcatcher/mailbox.access.ts';
import { linkify } from './linkify.ts';

/**
 * Inside the frame the email's HTML may load nothing from anywhere (no tracking images, no fonts)
 * and, with the sandbox attribute, runs no script and gets an opaque origin.
 */
const FRAME_POLICY =
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">';

/**
 * The embedded default's demo inbox: what Relay "sent" through the built-in mail catcher. These
 * routes exist only while the catcher runs (`relay start --demo` or MAILCATCHER=on; never in
 * production). Each person sees only the emails addressed to them, their team or, for the
 * safeguarding team, the safeguarding mailbox and rota; opening one is audited.
 */
export function registerMailboxPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/mailbox', async (request, reply) => {
    const rows = await listReadable(ctx, request.user as User);
    const messages = rows.map((r) => ({
      id: r.id,
      receivedAt: r.receivedAt,
      to: r.to.join(', '),
      subject: r.subject || '(no subject)',
    }));
    return reply.page('mailbox/list.njk', { pageTitle: 'Mailbox', messages });
  });

  app.get<{ Params: { id: string } }>('/mailbox/:id', async (request, reply) => {
    const message = await readMessage(ctx, request.user as User, request.params.id, 'page');
    if (!message) throw new RelayError('not-found', 'No caught email with that id');
    return reply.page('mailbox/message.njk', {
      pageTitle: message.subject || 'Email',
      message: {
        from: message.from,
        to: message.to.join(', '),
        subject: message.subject || '(no subject)',
        receivedAt: message.receivedAt,
        messageId: message.messageId,
      },
      segments: linkify(message.text, ctx.config.baseUrl),
      srcdoc: message.html ? FRAME_POLICY + message.html : undefined,
    });
  });
}
