/**
 * A peer (bench/lib/peers.ts) as its own process: the enqueue endpoint and the worker together, as a
 * small service would run, so the chaos run can SIGKILL it and start it again. Configured by the
 * environment: PEER_KIND (bullmq | pg-boss), SMTP_URL, PORT, PEER_NAMESPACE (BullMQ prefix or pg-boss
 * schema, kept across restarts), REDIS_URL or DATABASE_URL, and optionally SEND_TIMEOUT_MS,
 * PGBOSS_EXPIRE_IN_SECONDS, PGBOSS_MAINTENANCE_INTERVAL_SECONDS. SIGTERM stops it gracefully.
 */
import { startPeer, type PeerKind, type PeerOptions } from './peers.ts';

const env = process.env;
const kind = env.PEER_KIND as PeerKind;
if (kind !== 'bullmq' && kind !== 'pg-boss') throw new Error('PEER_KIND must be bullmq or pg-boss');
if (!env.SMTP_URL || !env.PEER_NAMESPACE) throw new Error('SMTP_URL and PEER_NAMESPACE are required');

const number = (raw: string | undefined) => (raw ? Number(raw) : undefined);
const redis = env.REDIS_URL ? new URL(env.REDIS_URL) : undefined;
const options: PeerOptions = {
  namespace: env.PEER_NAMESPACE,
  port: number(env.PORT) ?? 0,
  ...(redis ? { redis: { host: redis.hostname, port: Number(redis.port) } } : {}),
  ...(env.DATABASE_URL ? { pgUrl: env.DATABASE_URL } : {}),
  ...(env.SEND_TIMEOUT_MS ? { timeoutMs: Number(env.SEND_TIMEOUT_MS) } : {}),
  ...(env.PGBOSS_EXPIRE_IN_SECONDS ? { expireInSeconds: Number(env.PGBOSS_EXPIRE_IN_SECONDS) } : {}),
  ...(env.PGBOSS_MAINTENANCE_INTERVAL_SECONDS
    ? { maintenanceIntervalSeconds: Number(env.PGBOSS_MAINTENANCE_INTERVAL_SECONDS) }
    : {}),
};

const peer = await startPeer(kind, env.SMTP_URL, options);
console.log(`${peer.name} is running at ${peer.baseUrl}`);
process.once('SIGTERM', () => {
  void peer.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
