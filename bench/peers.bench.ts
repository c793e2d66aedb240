import { randomBytes } from 'node:crypto';
import { driveEndToEnd, type Workload } from './e2e.bench.ts';
import type { EndToEndRow } from './lib/e2e.ts';
import { removePeerStore, type PeerKind } from './lib/peers.ts';
import { PG_URL } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { peerChild } from './lib/systems.ts';

/** The shared Redis BullMQ uses; each run keeps its queue under a prefix of its own. */
const REDIS = { host: '127.0.0.1', port: 6379, url: 'redis://127.0.0.1:6379' };

/**
 * A peer as its own process (bench/lib/peer.main.ts) on the shared Redis or PostgreSQL, its queue under a
 * fresh BullMQ prefix or pg-boss schema that is removed afterwards.
 */
export async function benchPeer(kind: PeerKind, sink: Sink, workload: Workload): Promise<EndToEndRow> {
  const hex = randomBytes(4).toString('hex');
  const namespace = kind === 'bullmq' ? `bench-e2e-${hex}` : `pgboss_e2e_${hex}`;
  const peer = await peerChild(
    kind,
    sink,
    namespace,
    kind === 'bullmq' ? { redis: REDIS } : { pgUrl: PG_URL },
  );
  return driveEndToEnd(
    {
      ...peer,
      close: async () => {
        await peer.close();
        await removePeerStore(kind, peer.store);
      },
    },
    workload,
    sink,
  );
}
