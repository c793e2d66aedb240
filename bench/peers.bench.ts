import { driveEndToEnd, type Workload } from './e2e.bench.ts';
import type { EndToEndRow } from './lib/e2e.ts';
import { jsonPoster } from './lib/load.ts';
import { startPeer, type PeerKind } from './lib/peers.ts';
import { benchReferral } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';

export async function benchPeer(kind: PeerKind, sink: Sink, workload: Workload): Promise<EndToEndRow> {
  const peer = await startPeer(kind, sink.url);
  try {
    const post = jsonPoster(`${peer.baseUrl}/referrals`, {}, (i) => benchReferral(`${kind}-${workload}`, i));
    return await driveEndToEnd(peer.name, workload, post, sink);
  } finally {
    await peer.close();
  }
}
