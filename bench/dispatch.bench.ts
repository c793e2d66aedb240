import type { Dialect } from '../src/db/database.ts';
import { intakeReferral } from '../src/referrals/referral.service.ts';
import type { OutgoingEmail } from '../src/delivery/channels/email.channel.ts';
import { attemptDelivery } from '../src/delivery/delivery.sender.ts';
import { pooledTransport } from './lib/mail.ts';
import { benchReferral, startBenchRelay, type BenchRelay } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { log, now, round } from './lib/stats.ts';

export interface DispatchRow {
  system: string;
  n: number;
  seconds: number;
  perSecond: number;
  /** Relay's figure over the ceiling measured just before it. */
  ratio?: number;
  complete: boolean;
}

/**
 * N referrals accepted, dispatcher not started, and the N emails Relay will send for them, composed
 * exactly as Relay composes them (reading a delivery changes nothing): the ceiling sends these.
 */
export async function prepareRelayDispatch(dialect: Dialect, sink: Sink, n: number) {
  const relay = await startBenchRelay(dialect, sink.url);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await intakeReferral(relay.ctx, benchReferral('dispatch', i), { actor: 'bench' });
      }
    }),
  );
  const messages: OutgoingEmail[] = [];
  const capture = {
    send: async (m: OutgoingEmail) => (messages.push(m), { kind: 'sent' as const, detail: 'captured' }),
  };
  const rows = await relay.ctx.db.kysely.selectFrom('deliveries').selectAll().execute();
  for (const row of rows) await attemptDelivery(relay.ctx, { email: capture }, row);
  return { relay, messages };
}

/**
 * The practical ceiling: a bare Nodemailer pooled loop sending the same emails, byte for byte, with
 * Relay's settings: 16 in flight (DISPATCH_CONCURRENCY) over 5 connections (SMTP_POOL_SIZE).
 */
export async function benchCeiling(
  sink: Sink,
  messages: OutgoingEmail[],
  inFlight = 16,
): Promise<DispatchRow> {
  sink.reset();
  const transport = pooledTransport(sink.url);
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < messages.length) {
        const m = messages[next++] as OutgoingEmail;
        await transport.sendMail({
          from: m.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          headers: m.headers,
          envelope: { from: m.envelopeFrom, to: m.to },
        });
      }
    }),
  );
  const seconds = (now() - t0) / 1000;
  transport.close();
  const n = messages.length;
  await sink.waitFor(n, 10_000); // the sink thread's last reports may still be on their way
  const row = {
    system: 'nodemailer pooled loop (ceiling)',
    n,
    seconds: round(seconds, 2),
    perSecond: round(n / seconds),
    complete: sink.counts.size >= n,
  };
  log(`ceiling: ${row.perSecond}/s`);
  return row;
}

/** The same N emails through Relay's dispatcher, timed from its start until the sink has the last one. */
export async function benchRelayDispatch(
  prepared: { relay: BenchRelay; messages: OutgoingEmail[] },
  dialect: Dialect,
  sink: Sink,
): Promise<DispatchRow> {
  const { relay } = prepared;
  const n = prepared.messages.length;
  sink.reset();
  const t0 = now();
  relay.dispatcher.start();
  const complete = await sink.waitFor(n, 30 * 60_000);
  const seconds = (now() - t0) / 1000;
  const row = {
    system: `Relay dispatcher (${dialect})`,
    n,
    seconds: round(seconds, 2),
    perSecond: round(n / seconds),
    complete,
  };
  log(`relay dispatch ${dialect}: ${row.perSecond}/s`);
  return row;
}
