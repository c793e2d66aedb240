import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { systemClock } from '../../src/clock.ts';
import { openDatabase, type Db, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import {
  DEMO_DIRECTORY_PATH,
  importDirectory,
  readDirectoryFile,
} from '../../src/directory/directory.service.ts';
import { freePort } from '../../test/helpers/process.ts';
import { supervise, type Supervised } from '../lib/child.ts';
import { PEER_NAMES, peerJobStates, type PeerKind } from '../lib/peers.ts';
import type { Sink } from '../lib/sink.ts';
import { createDatabase, type PrivatePostgres, type PrivateRedis } from '../lib/stores.ts';
import { peerFates, relayFates, type Fate, type RelayDeliveryRow } from './fates.ts';

const RELAY_BIN = fileURLToPath(new URL('../../bin/relay.js', import.meta.url));
const PEER_MAIN = fileURLToPath(new URL('../lib/peer.main.ts', import.meta.url));
const SECRET = 'chaos-benchmark-secret-that-is-at-least-32-characters';

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
export interface ChaosSystem {
  name: string;
  /** Where the load generator posts referrals, and with which headers. */
  postUrl: string;
  headers: Record<string, string>;
  process: Supervised;
  /** What the sink's arrivals are matched on: Relay's referral id (X-Relay-Referral) or the peers' X-Bench-Ref. */
  matchBy: 'key' | 'ref';
  /** Work the system still holds and will do by itself (unsent deliveries, waiting or active jobs). */
  pending(): Promise<number>;
  /** After the run: what became of each accepted referral. */
  fates(accepted: { ref: string; key: string }[], sink: Sink): Promise<Map<string, Fate>>;
  close(): Promise<void>;
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

/** A fresh database for Relay: a SQLite file, or a new database on the private PostgreSQL server. */
async function relayDatabase(
  dialect: Dialect,
  postgres: PrivatePostgres | undefined,
): Promise<{ url: string; drop(): void }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'relay-chaos-'));
    return {
      url: `sqlite:${join(dir, 'relay.db')}`,
      drop: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!postgres) throw new Error('Relay on PostgreSQL needs the private PostgreSQL server');
  // The database goes with the private server at the end of the run.
  const url = await createDatabase(postgres, `chaos_relay_${randomBytes(4).toString('hex')}`);
  return { url, drop: () => undefined };
}

/** A real `relay start` process on a fresh database with the demo directory and a source system's API key. */
export async function relaySystem(
  dialect: Dialect,
  sink: Sink,
  postgres: PrivatePostgres | undefined,
): Promise<ChaosSystem> {
  const database = await relayDatabase(dialect, postgres);
  const setup = openDatabase(database.url);
  let key: string;
  try {
    await migrateToLatest(setup);
    await importDirectory(setup.kysely, systemClock, await readDirectoryFile(DEMO_DIRECTORY_PATH), {
      actor: 'chaos',
      source: 'chaos',
    });
    ({ key } = await createApiKey(
      setup.kysely,
      systemClock,
      { name: 'chaos ePCR', scope: 'referrals:write', sourceSystem: 'bench' },
      'chaos',
      async () => true,
    ));
  } finally {
    await setup.close();
  }
  const port = await freePort();
  const env = {
    ...baseEnv(),
    RELAY_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    SMTP_URL: sink.url,
    RELAY_SECRET: SECRET,
    TEST_ALERT_INTERVAL: 'off',
    ...RELAY_CHAOS_ENV,
  };
  const child = supervise(
    `relay (${dialect})`,
    [RELAY_BIN, 'start'],
    env,
    `http://127.0.0.1:${port}/healthz`,
  );
  // The harness reads Relay's database after the run; on PostgreSQL this pool rides out the restarts.
  const db: Db = openDatabase(database.url, { pgPoolSize: 2 });
  return {
    name: `Relay (${dialect})`,
    postUrl: `http://127.0.0.1:${port}/api/v1/referrals`,
    headers: { authorization: `Bearer ${key}` },
    process: child,
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
      await child.stop();
      await db.close();
      database.drop();
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
  const port = await freePort();
  const namespace =
    kind === 'bullmq'
      ? `chaos-${randomBytes(4).toString('hex')}`
      : `pgboss_chaos_${randomBytes(4).toString('hex')}`;
  const where =
    kind === 'bullmq'
      ? { redis: { host: store.redis?.host ?? '127.0.0.1', port: store.redis?.port ?? 6379 } }
      : { pgUrl: store.postgres?.url };
  if (kind === 'bullmq' && !store.redis) throw new Error('BullMQ needs a private Redis here');
  if (kind === 'pg-boss' && !store.postgres) throw new Error('pg-boss needs the private PostgreSQL server');
  const env = {
    ...baseEnv(),
    PEER_KIND: kind,
    SMTP_URL: sink.url,
    PORT: String(port),
    PEER_NAMESPACE: namespace,
    SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    ...(kind === 'bullmq'
      ? { REDIS_URL: store.redis?.url }
      : {
          DATABASE_URL: store.postgres?.url,
          PGBOSS_EXPIRE_IN_SECONDS: String(PGBOSS_CHAOS.expireInSeconds),
          PGBOSS_MAINTENANCE_INTERVAL_SECONDS: String(PGBOSS_CHAOS.maintenanceIntervalSeconds),
        }),
  };
  const child = supervise(kind, ['--import', 'tsx', PEER_MAIN], env, `http://127.0.0.1:${port}/healthz`);
  const states = () => peerJobStates(kind, { namespace, ...where });
  return {
    name: `${PEER_NAMES[kind]}${store.label ? ` ${store.label}` : ''}`,
    postUrl: `http://127.0.0.1:${port}/referrals`,
    headers: {},
    process: child,
    matchBy: 'ref',
    pending: async () => (await states()).pending.size,
    fates: async (accepted, sink) => peerFates(accepted, await states(), sink.arrivals),
    close: () => child.stop(),
  };
}
