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

/** What the source system saw while it kept sending one referral until it was accepted. */
export interface Submission {
  /** The referral's source reference. */
  ref: string;
  /** The id from the 2xx answer; undefined when it was never accepted. */
  key?: string;
  attempts: number;
}

export interface SubmissionStats {
  /** Answers by HTTP status, and failures by kind (`refused`, `reset`, `timeout`). */
  outcomes: Record<string, number>;
}

export interface RetryingPostOptions {
  url: string;
  headers: Record<string, string>;
  /** Give up on a referral after this long (it then counts as not accepted). */
  giveUpAfterMs: number;
  /** Abandon a request with no answer after this long and send it again. */
  requestTimeoutMs: number;
}

function failureKind(e: unknown): string {
  const error = e as { name?: string; cause?: { code?: string } };
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
  const code = error.cause?.code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'reset';
  return code ?? 'error';
}

/**
 * Sends one referral as a careful source system does: the same body (so the same source reference)
 * again after a refused connection, a dropped request, a time-out or a 5xx, until a 2xx answer or
 * `giveUpAfterMs`. Any other 4xx is a harness error and stops at once. Only a 2xx counts as accepted.
 */
export async function postUntilAccepted(
  options: RetryingPostOptions,
  ref: string,
  body: unknown,
  stats: SubmissionStats,
): Promise<Submission> {
  const text = JSON.stringify(body);
  const giveUpAt = Date.now() + options.giveUpAfterMs;
  let attempts = 0;
  const count = (outcome: string) => (stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1);
  while (Date.now() < giveUpAt) {
    attempts += 1;
    let wait = Math.min(2000, 100 * 2 ** Math.min(attempts, 5));
    try {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: text,
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      const answer = await res.text();
      count(String(res.status));
      if (res.status === 200 || res.status === 201)
        return { ref, key: (JSON.parse(answer) as { id: string }).id, attempts };
      if (res.status < 500 && res.status !== 429)
        throw new Error(`${ref}: HTTP ${res.status}: ${answer.slice(0, 200)}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (retryAfter > 0) wait = Math.min(5000, retryAfter * 1000);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`${ref}: HTTP`)) throw e;
      count(failureKind(e));
    }
    await sleep(wait * (0.5 + Math.random() / 2));
  }
  return { ref, attempts };
}

/** An open-loop steady rate of referrals, each sent until accepted (postUntilAccepted). */
export async function steadySubmissions(
  ratePerSecond: number,
  total: number,
  submit: (i: number) => Promise<Submission>,
): Promise<Submission[]> {
  const t0 = now();
  const pending: Promise<Submission>[] = [];
  for (let k = 0; k < total; k++) {
    const wait = t0 + (k * 1000) / ratePerSecond - now();
    if (wait > 1) await sleep(wait);
    pending.push(submit(k));
  }
  return Promise.all(pending);
}
