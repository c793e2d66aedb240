import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type pg from 'pg';
import type { RelayContext } from '../context.ts';
import { toError } from '../errors.ts';

/** The PostgreSQL channel on which a node announces that it queued deliveries. */
export const DELIVERIES_CHANNEL = 'relay_deliveries';

export interface NotifyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface Notifications {
  /** The server process id of the LISTEN session while it is up (for tests and diagnostics). */
  listenerPid(): number | undefined;
  stop(): Promise<void>;
}

export interface NotificationOptions {
  logger: NotifyLogger;
  /** Wakes this node's dispatcher; absent on a web-only node, which only announces. */
  wake?: () => void;
}

/**
 * Carries `deliveries-queued` between nodes on PostgreSQL, so a referral taken by one node is sent
 * at once by a worker on another instead of at its next poll (which stays as the fallback).
 *
 * Announcing hangs off the in-process signal rather than off intake itself: intake, triage,
 * redirects, test alerts and the watchdog's follow-ups all raise it after their transaction
 * commits, so one listener covers them all and no announcement can precede its commit. A lost
 * announcement costs a poll interval, never a delivery.
 */
export function startNotifications(ctx: RelayContext, options: NotificationOptions): Notifications {
  if (ctx.db.dialect !== 'postgres' || !ctx.db.newClient) {
    return { listenerPid: () => undefined, stop: async () => undefined };
  }
  const node = randomUUID();
  const unpublish = publish(ctx, node);
  const listener = options.wake
    ? new DeliveryListener(ctx.db.newClient, node, options.wake, options.logger)
    : undefined;
  listener?.start();
  return {
    listenerPid: () => listener?.pid(),
    stop: async () => {
      unpublish();
      await listener?.stop();
    },
  };
}

/** NOTIFY after each signal; signals raised while one is on its way are folded into one more. */
function publish(ctx: RelayContext, node: string): () => void {
  let sending = false;
  let again = false;
  const send = (): void => {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    // The payload names the schema (nodes of other Relays may share the database) and the sender.
    void sql`select pg_notify(${DELIVERIES_CHANNEL}, current_schema() || ' ' || ${node})`
      .execute(ctx.db.kysely)
      .catch(() => undefined)
      .finally(() => {
        sending = false;
        if (again) {
          again = false;
          send();
        }
      });
  };
  ctx.signals.on('deliveries-queued', send);
  return () => ctx.signals.off('deliveries-queued', send);
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

/** Jittered exponential back-off, so a restarted server is not met by every node at the same instant. */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(Math.max(failures - 1, 0), 8));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** LISTENs on a dedicated connection and reconnects after losing it. */
class DeliveryListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private schema: string | undefined;

  constructor(
    private readonly newClient: () => pg.Client,
    private readonly node: string,
    private readonly wake: () => void,
    private readonly logger: NotifyLogger,
  ) {}

  start(): void {
    void this.connect();
  }

  pid(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = this.newClient();
    let gone = false;
    const lost = (error?: unknown) => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.retryLater(error);
    };
    // A restart ends the session with an 'error' and then 'end'; both mean reconnect, once.
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => this.heard(message.payload));
    try {
      await client.connect();
      const { rows } = await client.query<{ schema: string }>('select current_schema() as schema');
      this.schema = rows[0]?.schema;
      await client.query(`LISTEN ${DELIVERIES_CHANNEL}`);
    } catch (error) {
      lost(error);
      return;
    }
    if (this.stopped) return void client.end().catch(() => undefined);
    this.client = client;
    if (this.failures > 0) this.logger.info({ failures: this.failures }, 'delivery notifications resumed');
    this.failures = 0;
    // Whatever was queued while this node was not listening was announced to nobody.
    this.wake();
  }

  private retryLater(error: unknown): void {
    if (this.stopped) return;
    this.failures += 1;
    if (this.failures === 1) {
      const reason = error === undefined ? 'connection ended' : toError(error).message;
      this.logger.warn({ err: reason }, 'delivery notifications lost; reconnecting (polling meanwhile)');
    }
    this.timer = setTimeout(() => void this.connect(), reconnectDelay(this.failures));
  }

  private heard(payload: string | undefined): void {
    const at = payload?.lastIndexOf(' ') ?? -1;
    if (!payload || at < 0) return;
    // Our own announcements already woke this node in-process.
    if (payload.slice(0, at) === this.schema && payload.slice(at + 1) !== this.node) this.wake();
  }
}
