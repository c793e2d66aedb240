import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { RelayContext } from '../context.ts';
import { toError } from '../errors.ts';

export interface MailCatcher {
  port: number;
  smtpUrl: string;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 5 * 1024 * 1024;

/**
 * A real SMTP server in-process for the embedded default: Relay sends to it exactly as it would to
 * a real relay, and every message is stored for the Mailbox to show. Nothing leaves the machine.
 */
export async function startMailCatcher(
  ctx: RelayContext,
  port: number,
  host = '127.0.0.1',
): Promise<MailCatcher> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        storeMessage(ctx, raw, session.envelope.mailFrom, session.envelope.rcptTo).then(
          () => callback(),
          (error: unknown) => callback(toError(error)),
        );
      });
    },
  });
  try {
    await listen(server, port, host);
  } catch (error) {
    // The embedded default must just work: if the usual port is taken, any free one will do.
    if ((error as { code?: string }).code !== 'EADDRINUSE' || port === 0) throw error;
    await listen(server, 0, host);
  }
  // A client that misbehaves must not take the embedded default down with it.
  server.on('error', () => undefined);
  const actual = (server.server.address() as AddressInfo).port;
  return {
    port: actual,
    smtpUrl: `smtp://${host}:${actual}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: SMTPServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // smtp-server re-emits socket errors on itself; without a listener they would crash the process.
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function storeMessage(
  ctx: RelayContext,
  raw: Buffer,
  from: SMTPServerAddress | false,
  to: SMTPServerAddress[],
): Promise<void> {
  const parsed = await simpleParser(raw);
  await ctx.db.kysely
    .insertInto('caught_messages')
    .values({
      id: randomUUID(),
      received_at: ctx.clock.now().toISOString(),
      envelope_from: from ? from.address : '',
      envelope_to: JSON.stringify(to.map((r) => r.address)),
      message_id: parsed.messageId ?? null,
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : null,
      raw: raw.toString('utf8'),
    })
    .execute();
}
