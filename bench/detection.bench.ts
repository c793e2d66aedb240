import type { Dialect } from '../src/db/database.ts';
import { claimDue } from '../src/delivery/outbox.repository.ts';
import { intakeReferral } from '../src/referrals/referral.service.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { log, now, sleep, summarise, type Summary } from './lib/stats.ts';

export interface DetectionRow {
  dialect: Dialect;
  what: string;
  samples: Summary;
  /** The bound it should meet, in ms. */
  targetMs: number;
  target: string;
}

const WATCHDOG_MS = 1000;
const SEND_BY_MS = 2000;
const LEASE_MS = 2000;
const POLL_MS = 1000;

/**
 * Real clock, short settings: WATCHDOG_INTERVAL_MS=1000, SEND_BY=2s, DELIVERY_LEASE=2s. The figure
 * is what matters relative to the interval; production defaults (15 s, 5 min, 2 min) scale it.
 */
export async function benchDetection(dialect: Dialect, sink: Sink, samples = 5): Promise<DetectionRow[]> {
  const relay = await startBenchRelay(dialect, sink.url, {
    WATCHDOG_INTERVAL_MS: String(WATCHDOG_MS),
    SEND_BY: '2s',
    DELIVERY_LEASE: '2s',
    DISPATCH_POLL: '1s',
  });
  const db = relay.ctx.db.kysely;
  try {
    // Deadline → escalation: nothing sends (no dispatcher), so every delivery misses SEND_BY.
    relay.watchdog.start();
    const deadlineLags: number[] = [];
    for (let k = 0; k < samples; k++) {
      const { id } = await intakeReferral(relay.ctx, benchReferral('detect', k), { actor: 'bench' });
      const referral = await db
        .selectFrom('referrals')
        .select('received_at')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const deadline = new Date(referral.received_at).getTime() + SEND_BY_MS;
      for (;;) {
        const found = await db
          .selectFrom('escalations')
          .select('id')
          .where('referral_id', '=', id)
          .executeTakeFirst();
        if (found) break;
        await sleep(5);
      }
      deadlineLags.push(now() - deadline);
      await sleep(Math.random() * WATCHDOG_MS); // land the next deadline at another phase of the sweep
    }
    await relay.watchdog.stop();

    // Dead worker → leases resumed: a worker claims and dies holding the lease; a live one takes over.
    const resumeTimes: number[] = [];
    for (let k = 0; k < samples; k++) {
      const { id } = await intakeReferral(relay.ctx, benchReferral('lease', k), { actor: 'bench' });
      const died = now();
      await claimDue(db, relay.ctx.db.dialect, `dead-${k}`, new Date(), LEASE_MS, 1000);
      sink.reset();
      relay.dispatcher.start();
      while (!sink.arrivals.some((a) => a.key === id)) await sleep(5);
      resumeTimes.push(now() - died);
      await relay.dispatcher.stop();
    }
    const rows: DetectionRow[] = [
      {
        dialect,
        what: 'deadline passed → escalation exists',
        samples: summarise(deadlineLags),
        targetMs: WATCHDOG_MS,
        target: '≤ one watchdog interval',
      },
      {
        dialect,
        what: 'worker died holding a lease → delivery resumed and sent',
        samples: summarise(resumeTimes),
        targetMs: LEASE_MS + POLL_MS,
        target: '≤ lease + one poll',
      },
    ];
    for (const r of rows)
      log(
        `detection ${dialect}: ${r.what}: p50=${r.samples.p50} max=${r.samples.max} (target ${r.targetMs})`,
      );
    return rows;
  } finally {
    await relay.close();
  }
}
