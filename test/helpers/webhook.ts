import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';
import type { Directory, WebhookFormat } from '../../src/directory/directory.types.ts';
import type { Dialect } from '../../src/db/database.ts';
import { createTestRelay, type TestRelay } from './relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp.ts';

export interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiving team's system answers: a status with headers, or never. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** A real HTTP receiver on a fixed port, so the directory can name it and a test can take it down. */
export class Receiver {
  readonly hits: Hit[] = [];
  answer: Answer = { status: 200 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.hits.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body,
        });
        if (this.answer === 'hang') return;
        response.writeHead(this.answer.status, this.answer.headers).end('{}');
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  for(deliveryId: string): Hit[] {
    return this.hits.filter((h) => h.headers['x-relay-delivery'] === deliveryId);
  }
}

/** The demo directory with Solihull adults' webhook pointed at the local receiver (in `format`, if given). */
export async function directoryWithWebhook(
  url: string,
  format?: WebhookFormat,
): Promise<{ directory: Directory; secret: string }> {
  const directory = structuredClone(await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
  const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === 'solihull-adults');
  const hook = team?.channels.find((c) => c.kind === 'webhook');
  assert.ok(hook?.kind === 'webhook', 'the demo directory gives Solihull adults a webhook');
  hook.url = url;
  if (format) hook.format = format;
  return { directory, secret: hook.secret };
}

export interface WebhookRig {
  receiver: Receiver;
  relay: TestRelay;
  smtp: TestSmtpServer;
  secret: string;
  close(): Promise<void>;
}

/** A relay whose Solihull adults' webhook (at `path`, in `format`) is a live local receiver. */
export async function startWebhookRig(
  dialect: Dialect,
  path: string,
  format?: WebhookFormat,
): Promise<WebhookRig> {
  const receiver = new Receiver();
  await receiver.listen();
  const smtp = await startTestSmtpServer();
  const made = await directoryWithWebhook(`http://127.0.0.1:${receiver.port}${path}`, format);
  const relay = await createTestRelay(dialect, {
    directory: made.directory,
    // Generous, so a loaded machine never turns an answered POST into a time-out; the receiver listens on loopback, which Relay refuses unless told the network is its own.
    env: { SEND_TIMEOUT: '30s', WEBHOOK_ALLOW_PRIVATE: 'on' },
  });
  return {
    receiver,
    relay,
    smtp,
    secret: made.secret,
    async close() {
      await relay.close();
      await receiver.close();
      await smtp.close();
    },
  };
}
