import type { Dialect } from '../src/db/database.ts';
import { intakeReferral } from '../src/referrals/referral.service.ts';
import { benchMail, pooledTransport } from './lib/mail.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
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

/** The practical ceiling: a bare Nodemailer pooled loop, 16 sends in flight over 5 connections. */
export async function benchCeiling(sink: Sink, n: number, inFlight = 16): Promise<DispatchRow> {
  sink.reset();
  const transport = pooledTransport(sink.url);
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await transport.sendMail(benchMail(`ceiling-${next++}`));
    }),
  );
  const seconds = (now() - t0) / 1000;
  transport.close();
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

/** The same N emails through Relay's dispatcher: N referrals accepted first, then the dispatcher drains them. */
export async function benchRelayDispatch(dialect: Dialect, sink: Sink, n: number): Promise<DispatchRow> {
  const relay = await startBenchRelay(dialect, sink.url);
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          const i = next++;
          await intakeReferral(relay.ctx, benchReferral('dispatch', i), { actor: 'bench' });
        }
      }),
    );
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
  } finally {
    await relay.close();
  }
}
