import { randomBytes } from 'node:crypto';
import { openDatabase, type Db, type Dialect } from '../../src/db/database.ts';
import { peerJobStates, type PeerKind } from '../lib/peers.ts';
import type { Sink } from '../lib/sink.ts';
import {
  createDatabase,
  sqliteFile,
  type FreshDatabase,
  type PrivatePostgres,
  type PrivateRedis,
} from '../lib/stores.ts';
import { peerChild, relayChild, type ChildSystem } from '../lib/systems.ts';
import { peerFates, relayFates, type Fate, type RelayDeliveryRow } from './fates.ts';

/** SMTP time-out on every system, so a stalled server costs each the same. */
export const SEND_TIMEOUT_MS = 3000;

/**
 * Relay's timers, shortened so a run fits in minutes: the watchdog sweeps every second, a delivery
 * not sent 20 s after receipt is escalated, a dead worker's lease returns after 10 s (production: 15 s,
 * 5 min and 2 min). Retry back-off is left at production values (30 s base).
 */
export const RELAY_CHAOS_ENV = {
  WATCHDOG_INTERVAL_MS: '1000',
  SEND_BY: '20s',
  DELIVERY_LEASE: '10s',
  SEND_TIMEOUT: `${SEND_TIMEOUT_MS}ms`,
};

/** pg-boss's lease-like timers, shortened like Relay's (defaults: 15 min active expiry, 120 s maintenance). */
export const PGBOSS_CHAOS = { expireInSeconds: 30, maintenanceIntervalSeconds: 10 };

/** A system under test, running as a supervised child process with its own store. */
export interface ChaosSystem extends ChildSystem {
  /** What the sink's arrivals are matched on: Relay's referral id (X-Relay-Referral) or the peers' X-Bench-Ref. */
  matchBy: 'key' | 'ref';
  /** Work the system still holds and will do by itself (unsent deliveries, waiting or active jobs). */
  pending(): Promise<number>;
  /** After the run: what became of each accepted referral. */
  fates(accepted: { ref: string; key: string }[], sink: Sink): Promise<Map<string, Fate>>;
}

/** A fresh database for Relay: a SQLite file, or a new database on the private PostgreSQL server. */
async function relayDatabase(
  dialect: Dialect,
  postgres: PrivatePostgres | undefined,
): Promise<FreshDatabase> {
  if (dialect === 'sqlite') return sqliteFile('relay-chaos-');
  if (!postgres) throw new Error('Relay on PostgreSQL needs the private PostgreSQL server');
  // The database goes with the private server at the end of the run.
  const url = await createDatabase(postgres.url, `chaos_relay_${randomBytes(4).toString('hex')}`);
  return { url, drop: async () => undefined };
}

/** A real `relay start` process on a fresh database with the demo directory and a source system's API key. */
export async function relaySystem(
  dialect: Dialect,
  sink: Sink,
  postgres: PrivatePostgres | undefined,
): Promise<ChaosSystem> {
  const database = await relayDatabase(dialect, postgres);
  const relay = await relayChild(dialect, sink, database, { actor: 'chaos', env: RELAY_CHAOS_ENV });
  // The harness reads Relay's database after the run; on PostgreSQL this pool rides out the restarts.
  const db: Db = openDatabase(database.url, { pgPoolSize: 2 });
  return {
    ...relay,
    matchBy: 'key',
    async pending() {
      const row = await db.kysely
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', ['queued', 'sending', 'retrying'])
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async fates(accepted, sink) {
      const ids = accepted.map((a) => a.key);
      const deliveries: RelayDeliveryRow[] = [];
      const escalations: { referral_id: string | null; team_id: string | null; state: string }[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        deliveries.push(
          ...(await db.kysely
            .selectFrom('deliveries')
            .select(['referral_id', 'team_id', 'state', 'message_id'])
            .where('purpose', '=', 'referral')
            .where('referral_id', 'in', chunk)
            .execute()),
        );
        escalations.push(
          ...(await db.kysely
            .selectFrom('escalations')
            .select(['referral_id', 'team_id', 'state'])
            .where('referral_id', 'in', chunk)
            .execute()),
        );
      }
      return relayFates(accepted, deliveries, escalations, sink.arrivals);
    },
    async close() {
      await relay.process.stop();
      await db.close();
      await relay.close();
    },
  };
}

export interface PeerStoreRef {
  redis?: PrivateRedis;
  postgres?: PrivatePostgres;
  /** Shown after the system's name, e.g. the Redis persistence setting. */
  label?: string;
}

/** A peer's enqueue endpoint and worker in one child process (bench/lib/peer.main.ts) on a private store. */
export async function peerSystem(kind: PeerKind, sink: Sink, store: PeerStoreRef): Promise<ChaosSystem> {
  if (kind === 'bullmq' && !store.redis) throw new Error('BullMQ needs a private Redis here');
  if (kind === 'pg-boss' && !store.postgres) throw new Error('pg-boss needs the private PostgreSQL server');
  const namespace =
    kind === 'bullmq'
      ? `chaos-${randomBytes(4).toString('hex')}`
      : `pgboss_chaos_${randomBytes(4).toString('hex')}`;
  const peer = await peerChild(
    kind,
    sink,
    namespace,
    { ...store, pgUrl: store.postgres?.url },
    {
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
      ...(kind === 'pg-boss'
        ? {
            PGBOSS_EXPIRE_IN_SECONDS: String(PGBOSS_CHAOS.expireInSeconds),
            PGBOSS_MAINTENANCE_INTERVAL_SECONDS: String(PGBOSS_CHAOS.maintenanceIntervalSeconds),
          }
        : {}),
    },
  );
  const states = () => peerJobStates(kind, peer.store);
  return {
    ...peer,
    matchBy: 'ref',
    pending: async () => (await states()).pending.size,
    fates: async (accepted, sink) => peerFates(accepted, await states(), sink.arrivals),
  };
}
