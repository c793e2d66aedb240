import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { now } from './stats.ts';

export type SinkMode = 'accept' | '421' | '451' | 'stall';

export interface Arrival {
  /** X-Relay-Referral, or X-Bench-Id for the ceiling and the peers. */
  key: string;
  messageId: string;
  /** X-Bench-Ref: the peers' copy of the referral's source reference (the chaos run counts by it). */
  ref?: string;
  at: number;
}

/**
 * A local SMTP server that answers 250 as fast as it can and records, per message, when the 250
 * went back: the end of every end-to-end latency. It can answer 421/451 to a share of messages,
 * or stall, for the chaos runs.
 */
export interface Sink {
  port: number;
  url: string;
  /** The sink's own process, when it runs in one (sink.process.ts). */
  pid?: number;
  arrivals: Arrival[];
  /** key → how many times it arrived (more than once is a duplicate). */
  counts: Map<string, number>;
  /**
   * Message-ID → how many times it arrived. Each delivery has a Message-ID of its own, so this counts
   * emails, not referrals: a referral routed to two teams is two deliveries.
   */
  deliveries: Map<string, number>;
  setMode(mode: SinkMode, share?: number): void;
  /** Holds each accepted message this long before its 250, as a real server takes time to answer. */
  setDelay(ms: number): void;
  /** Resolves true once `count` distinct deliveries (Message-IDs) have arrived, false at `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<boolean>;
  reset(): void;
  close(): Promise<void>;
}

const HEADER = /^(x-relay-referral|x-bench-id|x-bench-ref|message-id):\s*(.+)$/gim;

function keysOf(raw: string): { key: string; messageId: string; ref?: string } {
  const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n')) || 4000);
  let key = '';
  let messageId = '';
  let ref: string | undefined;
  for (const m of head.matchAll(HEADER)) {
    const name = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    if (name === 'message-id') messageId = value;
    else if (name === 'x-bench-ref') ref = value;
    else if (!key) key = value;
  }
  return { key: key || messageId, messageId, ...(ref ? { ref } : {}) };
}

/** What a sink has received, counted by key and by delivery; shared by both sinks (here and sink.process.ts). */
export class ArrivalLog {
  readonly arrivals: Arrival[] = [];
  readonly counts = new Map<string, number>();
  readonly deliveries = new Map<string, number>();

  add(a: Arrival): void {
    this.arrivals.push(a);
    this.counts.set(a.key, (this.counts.get(a.key) ?? 0) + 1);
    this.deliveries.set(a.messageId, (this.deliveries.get(a.messageId) ?? 0) + 1);
  }

  clear(): void {
    this.arrivals.length = 0;
    this.counts.clear();
    this.deliveries.clear();
  }

  /** Resolves true once `count` distinct deliveries have arrived, false if `timeoutMs` passes first. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.size < count) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }
}

export async function startSink(): Promise<Sink> {
  const log = new ArrivalLog();
  let mode: SinkMode = 'accept';
  let share = 1;
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    maxClients: 1000,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const faulty = mode !== 'accept' && Math.random() < share;
        if (faulty && mode === 'stall') return;
        if (faulty) {
          const code = Number(mode);
          return callback(Object.assign(new Error(`${code} 4.3.0 Try again later`), { responseCode: code }));
        }
        const keys = keysOf(Buffer.concat(chunks).toString('utf8'));
        // The message counts as arrived when the 250 goes back, whether or not the client is still there to read it.
        const accept = () => {
          log.add({ ...keys, at: now() });
          callback();
        };
        if (delayMs > 0) setTimeout(accept, delayMs);
        else accept();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    arrivals: log.arrivals,
    counts: log.counts,
    deliveries: log.deliveries,
    setMode(next, nextShare = 1) {
      mode = next;
      share = nextShare;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    waitFor: (count, timeoutMs) => log.waitFor(count, timeoutMs),
    reset: () => log.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
