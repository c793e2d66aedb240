import { now, sleep } from './stats.ts';

export interface Accepted {
  /** What the receiver keys the message by (referral id for Relay, job id for the peers). */
  key: string;
  sentAt: number;
  acceptedAt: number;
}

export interface LoadResult {
  accepted: Accepted[];
  errors: number;
  firstError?: string;
  durationMs: number;
}

/** One POST; returns the key from the JSON answer (`id`), or throws with the status. */
export type Post = (i: number) => Promise<string>;

export function jsonPoster(url: string, headers: Record<string, string>, body: (i: number) => unknown): Post {
  return async (i) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body(i)),
    });
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    return (JSON.parse(text) as { id: string }).id;
  };
}

/** `clients` closed-loop clients share `total` requests, each sending its next as soon as the last is answered. */
export async function closedLoop(
  post: Post,
  clients: number,
  total: number,
  offset = 0,
): Promise<LoadResult> {
  const accepted: Accepted[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = offset + next++;
        const sentAt = now();
        try {
          const key = await post(i);
          accepted.push({ key, sentAt, acceptedAt: now() });
        } catch (e) {
          errors += 1;
          firstError ??= String(e);
        }
      }
    }),
  );
  return { accepted, errors, ...(firstError ? { firstError } : {}), durationMs: now() - t0 };
}

/** An open-loop steady rate: one request every 1000/rate ms, whatever the answers take. */
export async function steadyRate(
  post: Post,
  ratePerSecond: number,
  total: number,
  offset = 0,
): Promise<LoadResult> {
  const accepted: Accepted[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000) / ratePerSecond;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const i = offset + k;
    const sentAt = now();
    pending.push(
      post(i).then(
        (key) => void accepted.push({ key, sentAt, acceptedAt: now() }),
        (e: unknown) => {
          errors += 1;
          firstError ??= String(e);
        },
      ),
    );
  }
  await Promise.all(pending);
  return { accepted, errors, ...(firstError ? { firstError } : {}), durationMs: now() - t0 };
}
