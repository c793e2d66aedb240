import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { systemClock } from '../../src/clock.ts';
import { openDatabase, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { importDirectory } from '../../src/directory/directory.service.ts';
import { inheritedClockEnv } from '../../test/helpers/clock.ts';
import { freePort } from '../../test/helpers/process.ts';
import { supervise, together, type Supervised } from './child.ts';
import { benchDirectory } from './directory.ts';
import { PEER_NAMES, type PeerKind, type PeerStoreAt } from './peers.ts';
import type { Sink } from './sink.ts';
import type { FreshDatabase } from './stores.ts';

const RELAY_BIN = fileURLToPath(new URL('../../bin/relay.js', import.meta.url));
const PEER_MAIN = fileURLToPath(new URL('./peer.main.ts', import.meta.url));
const SECRET = 'chaos-benchmark-secret-that-is-at-least-32-characters';

/**
 * A system under test as a child process of its own under a supervisor (child.ts), so that it has its
 * own event loop and memory, apart from the load generator's. Not started: `process.start()` does that.
 */
export interface ChildSystem {
  name: string;
  /** Where the load generator posts referrals, and with which headers. */
  postUrl: string;
  headers: Record<string, string>;
  process: Supervised;
  /** Every process of the system, when it has more than `process` (a web node and a worker node). */
  pids?: () => (number | undefined)[];
  /** Stops the process and removes what was made for it. */
  close(): Promise<void>;
}

/**
 * A child's environment: nothing of the harness's but PATH and HOME, and the fake clock when the
 * harness runs under one (RELAY_FAKE_NOW, as scripts/test.mjs sets it; test/helpers/clock.ts), so
 * a run at a faked hour fakes it for every system alike.
 */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...inheritedClockEnv() };
}

/**
 * BENCH_RELAY_PROFILE=<dir>: each Relay process writes a .cpuprofile per thread there when it stops
 * (bench/profile.summary.ts reads them), to see where an end-to-end run's CPU goes.
 */
const PROFILE = process.env.BENCH_RELAY_PROFILE
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_RELAY_PROFILE}`]
  : [];

/**
 * A Relay system's name in the tables: "before" when it runs another checkout (`tree`); "web + worker"
 * when intake and sending run in two nodes (`split`).
 */
export function relayName(dialect: Dialect, tree?: string, split = false): string {
  return `Relay (${dialect}${split ? ', web + worker nodes' : ''})${tree ? ' before' : ''}`;
}

/**
 * A real `relay start` (bin/relay.js) on `database`, which is migrated here first and given the
 * benchmark directory (directory.ts: one email per referral at any hour) and a source system's API
 * key (made by `actor`). Production settings but for `env`:
 * RELAY_ENV=test with scheduled test alerts off, LOG_LEVEL=warn. close() stops it and drops the
 * database; so does a failure here.
 */
export async function relayChild(
  dialect: Dialect,
  sink: Sink,
  database: FreshDatabase,
  options: { actor: string; env?: Record<string, string>; tree?: string; split?: boolean },
): Promise<ChildSystem> {
  const { actor } = options;
  let key: string;
  try {
    const setup = openDatabase(database.url);
    try {
      await migrateToLatest(setup);
      await importDirectory(setup.kysely, systemClock, await benchDirectory(), {
        actor,
        source: actor,
      });
      ({ key } = await createApiKey(
        setup.kysely,
        systemClock,
        { name: `${actor} ePCR`, scope: 'referrals:write', sourceSystem: 'bench' },
        actor,
        async () => true,
      ));
    } finally {
      await setup.close();
    }
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  const port = await freePort();
  const env = {
    ...baseEnv(),
    RELAY_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    SMTP_TLS: 'off', // the benchmark's sink speaks in clear
    SMTP_URL: sink.url,
    RELAY_SECRET: SECRET,
    TEST_ALERT_INTERVAL: 'off',
    ...options.env,
  };
  const bin = options.tree ? join(options.tree, 'bin/relay.js') : RELAY_BIN;
  const start = (role: string, ready: string, extra: Record<string, string> = {}) =>
    supervise(
      `relay ${role} (${dialect})`,
      [...PROFILE, bin, 'start', '--role', role],
      { ...env, ...extra },
      ready,
    );
  const web = start(options.split ? 'web' : 'all', `http://127.0.0.1:${port}/healthz`);
  // A worker node serves only /healthz, /readyz and /metrics, on METRICS_PORT.
  const metricsPort = options.split ? await freePort() : 0;
  const worker = options.split
    ? start('worker', `http://127.0.0.1:${metricsPort}/healthz`, { METRICS_PORT: String(metricsPort) })
    : undefined;
  const child = worker ? together(`relay web + worker (${dialect})`, [web, worker]) : web;
  return {
    name: relayName(dialect, options.tree, options.split),
    postUrl: `http://127.0.0.1:${port}/api/v1/referrals`,
    headers: { authorization: `Bearer ${key}` },
    process: child,
    ...(worker ? { pids: () => [web.pid, worker.pid] } : {}),
    async close() {
      await child.stop();
      await database.drop();
    },
  };
}

/** The Redis (host, port and URL) or PostgreSQL (URL) a peer keeps its queue in. */
export interface PeerStores {
  redis?: { host: string; port: number; url: string };
  pgUrl?: string;
  /** Shown after the system's name, e.g. the Redis persistence setting. */
  label?: string;
}

/**
 * A peer's enqueue endpoint and worker in one child process (bench/lib/peer.main.ts), its queue under
 * `namespace` (BullMQ prefix or pg-boss schema) in `stores`, kept across restarts of the process.
 * close() only stops the process: `store` says where the queue is, for the caller to read or remove.
 */
export async function peerChild(
  kind: PeerKind,
  sink: Sink,
  namespace: string,
  stores: PeerStores,
  env: Record<string, string> = {},
): Promise<ChildSystem & { store: PeerStoreAt }> {
  if (kind === 'bullmq' && !stores.redis) throw new Error('BullMQ needs a Redis');
  if (kind === 'pg-boss' && !stores.pgUrl) throw new Error('pg-boss needs a PostgreSQL');
  const port = await freePort();
  const child = supervise(
    kind,
    ['--import', 'tsx', PEER_MAIN],
    {
      ...baseEnv(),
      PEER_KIND: kind,
      SMTP_URL: sink.url,
      PORT: String(port),
      PEER_NAMESPACE: namespace,
      ...(kind === 'bullmq' ? { REDIS_URL: stores.redis?.url } : { DATABASE_URL: stores.pgUrl }),
      ...env,
    },
    `http://127.0.0.1:${port}/healthz`,
  );
  const { redis } = stores;
  return {
    name: `${PEER_NAMES[kind]}${stores.label ? ` ${stores.label}` : ''}`,
    postUrl: `http://127.0.0.1:${port}/referrals`,
    headers: {},
    process: child,
    store: {
      namespace,
      ...(kind === 'bullmq' && redis ? { redis: { host: redis.host, port: redis.port } } : {}),
      ...(kind === 'pg-boss' ? { pgUrl: stores.pgUrl } : {}),
    },
    close: () => child.stop(),
  };
}
