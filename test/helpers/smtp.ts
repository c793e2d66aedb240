import assert from 'node:assert/strict';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { EmailChannel } from '../../src/delivery/channels/email.channel.ts';

/** How the test SMTP server answers the next messages. */
export type SmtpMode =
  | 'accept'
  | '421' // service not available, closing channel (temporary)
  | '451' // local error in processing (temporary)
  | '550' // mailbox unavailable (permanent)
  | '554' // transaction failed (permanent)
  | 'drop' // drops the connection in the middle of DATA
  | 'stall' // takes the message and never answers, past the client's time-out
  | 'blackhole'; // accepts the TCP connection and never sends a greeting

export interface ReceivedMessage {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  url: string;
  received: ReceivedMessage[];
  /** Holds each accepted message this long before answering 250, so sends stay in flight. */
  setDelay(ms: number): void;
  /** Sets the answer for every following message, or for the next `times` ones then back to accept. */
  setMode(mode: SmtpMode, times?: number): void;
  /** Resolves when at least `count` messages have been received. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A real SMTP server (smtp-server) that records what it receives and fails on demand. */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMessage[] = [];
  let mode: SmtpMode = 'accept';
  let remaining = Infinity;
  let delayMs = 0;
  const take = (): SmtpMode => {
    const current = mode;
    if (current !== 'accept' && --remaining <= 0) {
      mode = 'accept';
      remaining = Infinity;
    }
    return current;
  };
  const waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();
  /** Answers held back by setDelay: cleared on close, so a long delay never outlives the test. */
  const held = new Set<NodeJS.Timeout>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      if (mode === 'blackhole') return; // never answers: no greeting
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const current = take();
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
      });
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (current === 'drop') {
          for (const socket of sockets) socket.destroy();
          return;
        }
        if (current === 'stall') return;
        if (current === '421' || current === '451' || current === '550' || current === '554') {
          const code = Number(current);
          const text =
            code === 421
              ? '4.3.2 Service not available'
              : code === 451
                ? '4.3.0 Try again later'
                : code === 550
                  ? '5.1.1 Mailbox unavailable'
                  : '5.7.1 Transaction failed';
          return callback(smtpError(code, text));
        }
        void simpleParser(raw).then((parsed) => {
          received.push({
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            parsed,
          });
          for (const wake of waiters.splice(0)) wake();
          if (delayMs === 0) return callback();
          const timer = setTimeout(() => {
            held.delete(timer);
            callback();
          }, delayMs);
          held.add(timer);
        });
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // Dropped and stalled connections are what these tests provoke; their socket errors are expected.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    setDelay(ms) {
      delayMs = ms;
    },
    setMode(next, times) {
      mode = next;
      remaining = times ?? Infinity;
    },
    async waitFor(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`Expected ${count} messages, got ${received.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let markers = 0;

/**
 * Proves that nothing more than `expected` messages went out through `channel`, without sleeping:
 * sends a marker through the same channel and waits for it. A one-connection pool sends in order,
 * so anything handed to the channel before the marker has arrived by the time the marker has. The
 * marker is taken out of `smtp.received` again, so later counts are unchanged.
 */
export async function assertNothingMoreSent(
  channel: Pick<EmailChannel, 'send'>,
  smtp: TestSmtpServer,
  expected: number,
): Promise<void> {
  const messageId = `<marker-${++markers}@relay.test>`;
  const outcome = await channel.send({
    from: 'marker@relay.test',
    envelopeFrom: 'marker@relay.test',
    to: 'marker@relay.test',
    subject: 'marker',
    text: 'marker',
    html: '<p>marker</p>',
    messageId,
    headers: {},
  });
  if (outcome.kind !== 'sent') throw new Error(`the marker was not sent: ${outcome.detail}`);
  const received = await smtp.waitFor(expected + 1);
  const at = received.findIndex((m) => m.parsed.messageId === messageId);
  assert.notEqual(at, -1, 'the marker arrived');
  received.splice(at, 1);
  assert.equal(received.length, expected, 'nothing was sent before the marker but the messages expected');
}
