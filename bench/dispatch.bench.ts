import type { Dialect } from '../src/db/database.ts';
import { intakeReferral } from '../src/referrals/referral.service.ts';
import type { OutgoingEmail } from '../src/delivery/channels/email.channel.ts';
import { ThreadedEmailChannel } from '../src/delivery/channels/email.thread.ts';
import { attemptDelivery } from '../src/delivery/delivery.sender.ts';
import { meterCpu, OWN_PROCESS } from './lib/cpu.ts';
import { pooledTransport } from './lib/mail.ts';
import { benchReferral, startBenchRelay, type BenchRelay } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { alternatingOrder, log, now, round, spread } from './lib/stats.ts';
import { postmasterPid } from './lib/stores.ts';

export interface DispatchRow {
  system: string;
  dialect?: Dialect;
  /** 1-based round of the alternating comparison; absent in the ceiling's sweep. */
  round?: number;
  n: number;
  seconds: number;
  perSecond: number;
  /** CPU of the sending process (all its threads; not the sink, which is a process of its own) per email. */
  cpuMsPerEmail: number;
  /** CPU of the PostgreSQL server (postmaster and backends) per email, for Relay on PostgreSQL. */
  storeCpuMsPerEmail?: number;
  complete: boolean;
}

/** One way to send the emails as fast as possible: the candidates of the ceiling's sweep. */
export interface CeilingConfig {
  poolSize: number;
  inFlight: number;
  /** MIME and SMTP on the sending thread, or on a worker thread (Relay's ThreadedEmailChannel) like Relay. */
  thread: 'main' | 'worker';
}

export function ceilingName(c: CeilingConfig): string {
  return `ceiling: ${c.poolSize} connections, ${c.inFlight} in flight, ${c.thread === 'main' ? 'one thread' : 'SMTP on a worker thread'}`;
}

/** Every combination of the pool sizes, in-flight counts and thread layouts to try. */
export function ceilingSweep(poolSizes: number[], inFlights: number[]): CeilingConfig[] {
  return poolSizes.flatMap((poolSize) =>
    inFlights.flatMap((inFlight) =>
      (['main', 'worker'] as const).map((thread) => ({ poolSize, inFlight, thread })),
    ),
  );
}

/** Fails the benchmark, loudly, when the emails it waits for do not all arrive. */
export async function waitForAll(sink: Sink, n: number, timeoutMs: number, what: string): Promise<void> {
  if (await sink.waitFor(n, timeoutMs)) return;
  throw new Error(
    `${what}: only ${sink.deliveries.size} of ${n} emails reached the sink within ${Math.round(timeoutMs / 1000)} s`,
  );
}

/** Generous for the slowest sender seen (about 75 emails/s), and never the 30 minutes that looked like a hang. */
export const dispatchTimeoutMs = (n: number) => Math.max(60_000, n * 40);

/**
 * N referrals accepted, dispatcher not started, and the N emails Relay will send for them, composed
 * exactly as Relay composes them (reading a delivery changes nothing): the ceiling sends these.
 * The workload is one email per referral at any hour (the benchmark directory); anything else fails.
 */
export async function prepareRelayDispatch(dialect: Dialect, sink: Sink, n: number, pgUrl?: string) {
  const relay = await startBenchRelay(dialect, sink.url, {}, pgUrl);
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
  if (rows.length !== n) {
    await relay.close();
    throw new Error(`${n} benchmark referrals made ${rows.length} deliveries, not one each`);
  }
  for (const row of rows) await attemptDelivery(relay.ctx, { email: capture }, row);
  return { relay, messages };
}

/** Sends through the chosen layout; resolves when the server has answered. */
function ceilingSender(sink: Sink, c: CeilingConfig) {
  if (c.thread === 'worker') {
    const channel = new ThreadedEmailChannel({
      smtpUrl: sink.url,
      poolSize: c.poolSize,
      timeoutMs: 30_000,
      tls: 'off',
    });
    return {
      send: async (m: OutgoingEmail) => {
        const outcome = await channel.send(m);
        if (outcome.kind !== 'sent') throw new Error(`ceiling send failed: ${outcome.detail}`);
      },
      close: () => channel.close(),
    };
  }
  const transport = pooledTransport(sink.url, c.poolSize);
  return {
    send: async (m: OutgoingEmail) => {
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
    },
    close: () => transport.close(),
  };
}

/** A bare loop keeping `inFlight` sends going: the practical ceiling for these bytes to this sink. */
export async function benchCeiling(
  sink: Sink,
  messages: OutgoingEmail[],
  config: CeilingConfig,
  roundNumber?: number,
): Promise<DispatchRow> {
  const sender = ceilingSender(sink, config);
  // Relay's SMTP thread and pool are up before its timing starts; the ceiling's get the same start.
  await Promise.all(
    messages
      .slice(0, config.inFlight)
      .map((m, i) => sender.send({ ...m, messageId: `<warm-up-${i}@bench>`, headers: {} })),
  );
  sink.reset();
  let next = 0;
  const cpu = meterCpu({ self: () => OWN_PROCESS });
  const t0 = now();
  await Promise.all(
    Array.from({ length: config.inFlight }, async () => {
      while (next < messages.length) await sender.send(messages[next++] as OutgoingEmail);
    }),
  );
  const n = messages.length;
  await waitForAll(sink, n, dispatchTimeoutMs(n), ceilingName(config));
  const seconds = (now() - t0) / 1000;
  const used = cpu();
  sender.close();
  const row: DispatchRow = {
    system: ceilingName(config),
    ...(roundNumber ? { round: roundNumber } : {}),
    n,
    seconds: round(seconds, 2),
    perSecond: round(n / seconds),
    cpuMsPerEmail: round((used.self ?? Number.NaN) / n, 2),
    complete: true,
  };
  log(`${row.system}: ${row.perSecond}/s, ${row.cpuMsPerEmail} ms CPU per email`);
  return row;
}

/** The same N emails through Relay's dispatcher, timed from its start until the sink has the last one. */
export async function benchRelayDispatch(
  prepared: { relay: BenchRelay; messages: OutgoingEmail[] },
  dialect: Dialect,
  sink: Sink,
  roundNumber: number,
  pgUrl?: string,
): Promise<DispatchRow> {
  const { relay } = prepared;
  const n = prepared.messages.length;
  sink.reset();
  const pg = dialect === 'postgres' && pgUrl ? pgUrl : undefined;
  const cpu = meterCpu({ self: () => OWN_PROCESS, ...(pg ? { store: () => postmasterPid(pg) } : {}) });
  const t0 = now();
  relay.dispatcher.start();
  await waitForAll(sink, n, dispatchTimeoutMs(n), `Relay dispatcher (${dialect})`);
  const seconds = (now() - t0) / 1000;
  const used = cpu();
  const row: DispatchRow = {
    system: `Relay dispatcher (${dialect})`,
    dialect,
    round: roundNumber,
    n,
    seconds: round(seconds, 2),
    perSecond: round(n / seconds),
    cpuMsPerEmail: round((used.self ?? Number.NaN) / n, 2),
    ...(used.store !== undefined ? { storeCpuMsPerEmail: round(used.store / n, 2) } : {}),
    complete: true,
  };
  log(
    `relay dispatch ${dialect} round ${roundNumber}: ${row.perSecond}/s, ${row.cpuMsPerEmail} ms CPU per email`,
  );
  return row;
}

const SWEEP_PASSES = 2;

/** The configuration with the highest median rate over its passes. */
export function fastest(sweep: CeilingConfig[], rows: DispatchRow[]): CeilingConfig {
  const median = (c: CeilingConfig) =>
    spread(rows.filter((r) => r.system === ceilingName(c)).map((r) => r.perSecond)).median;
  return sweep.reduce((best, c) => (median(c) > median(best) ? c : best));
}

/**
 * The ceiling is the best of a sweep over pool sizes, in-flight counts and thread layouts, on the
 * same emails; then `rounds` rounds of Relay and that best ceiling in alternating order, each round
 * on a freshly filled outbox. Returns the sweep's rows and the rounds' rows.
 */
export async function compareDispatch(
  dialect: Dialect,
  sink: Sink,
  n: number,
  rounds: number,
  sweep: CeilingConfig[],
  pgUrl?: string,
): Promise<{ sweep: DispatchRow[]; rounds: DispatchRow[]; best: CeilingConfig }> {
  const first = await prepareRelayDispatch(dialect, sink, n, pgUrl);
  const swept: DispatchRow[] = [];
  try {
    // Two passes in turn, so one lucky or unlucky run on the shared machine does not pick the ceiling.
    for (const [pass, configs] of alternatingOrder(sweep, SWEEP_PASSES).entries())
      for (const config of configs) swept.push(await benchCeiling(sink, first.messages, config, pass + 1));
  } finally {
    await first.relay.close();
  }
  const best = fastest(sweep, swept);
  log(`dispatch ${dialect}: the best ceiling is ${ceilingName(best)}`);
  const rows: DispatchRow[] = [];
  for (const [r, order] of alternatingOrder(['ceiling', 'relay'] as const, rounds).entries()) {
    const prepared = await prepareRelayDispatch(dialect, sink, n, pgUrl);
    try {
      for (const who of order)
        rows.push(
          who === 'ceiling'
            ? { ...(await benchCeiling(sink, prepared.messages, best, r + 1)), dialect }
            : await benchRelayDispatch(prepared, dialect, sink, r + 1, pgUrl),
        );
    } catch (error) {
      // A failed round is reported and left out (its ratio needs both runs); the others still count.
      log(`dispatch ${dialect} round ${r + 1}: FAILED: ${String(error)}`);
    } finally {
      await prepared.relay.close();
    }
  }
  return { sweep: swept.map((row) => ({ ...row, dialect })), rounds: rows, best };
}
