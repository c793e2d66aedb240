import { recentReferral } from '../helpers/referrals.ts';

export interface StreamStats {
  /** HTTP statuses answered, by status. */
  statuses: Record<number, number>;
  /** 503 answers without a Retry-After header (there should be none). */
  unavailableWithoutRetryAfter: number;
  /** Requests that failed at the connection (a dead node) and went to the next node. */
  movedOn: number;
}

export interface StreamOptions {
  /** Base URLs of the nodes; referral n goes to node n mod length first. */
  nodes: string[];
  key: string;
  count: number;
  /** Requests in flight at once. */
  lanes: number;
  /** Pause between one lane's requests, so the stream spans the faults. */
  pauseMs: number;
  /** Called as referral n is about to be sent, so the test can inject faults mid-stream. */
  onSubmit?: (n: number) => void;
  /** Awaited before referral n is sent: holds the stream until a fault has begun. */
  gate?: (n: number) => Promise<void> | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A referral that happened a minute ago by the real clock, for a real process. */
export function streamReferral(n: number) {
  return recentReferral({ system: 'cluster-epcr', reference: `CLUSTER-${n}` });
}

/**
 * Submits referrals as a source system behind a load balancer would: a 503 is retried after its
 * Retry-After, a node that cannot be reached is skipped for the next one. A referral whose fate is
 * unknown (its node died mid-request) is simply sent again: the same source reference answers 200
 * with the same referral. Returns the accepted referral ids by stream index.
 */
export async function submitStream(options: StreamOptions, stats: StreamStats): Promise<string[]> {
  const accepted: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < options.count) {
      const n = next++;
      await options.gate?.(n);
      options.onSubmit?.(n);
      accepted[n] = await submitOne(options, n, stats);
      await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, lane));
  return accepted;
}

async function submitOne(options: StreamOptions, n: number, stats: StreamStats): Promise<string> {
  const body = JSON.stringify(streamReferral(n));
  let node = n % options.nodes.length;
  for (let attempt = 0; attempt < 40; attempt++) {
    let response: Response;
    try {
      response = await fetch(`${options.nodes[node]}/api/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(20_000),
      });
    } catch {
      stats.movedOn += 1;
      node = (node + 1) % options.nodes.length;
      await sleep(50);
      continue;
    }
    stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
    if (response.status === 201 || response.status === 200) {
      return ((await response.json()) as { id: string }).id;
    }
    const text = await response.text();
    if (response.status !== 503) throw new Error(`referral ${n}: unexpected ${response.status}: ${text}`);
    const retryAfter = response.headers.get('retry-after');
    if (retryAfter === null) stats.unavailableWithoutRetryAfter += 1;
    await sleep(Number(retryAfter ?? '1') * 1000);
  }
  throw new Error(`referral ${n} was never accepted`);
}
