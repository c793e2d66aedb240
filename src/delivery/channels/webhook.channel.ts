import { createHmac } from 'node:crypto';
import type { AttemptOutcome } from '../retry.policy.ts';

export interface OutgoingWebhook {
  url: string;
  secret: string;
  deliveryId: string;
  referralId: string;
  body: string;
}

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** 2xx is delivered; 408, 429 and 5xx are worth retrying (honouring Retry-After); other 4xx are not. */
export function classifyHttpStatus(status: number, retryAfterMs?: number): AttemptOutcome {
  const detail = `HTTP ${status}`;
  if (status >= 200 && status < 300) return { kind: 'sent', detail };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'temporary', detail, retryAfterMs };
  return { kind: 'permanent', detail };
}

export async function sendWebhook(
  hook: OutgoingWebhook,
  timeoutMs: number,
  now: Date,
): Promise<AttemptOutcome> {
  try {
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-relay-signature': webhookSignature(hook.secret, hook.body),
        'x-relay-delivery': hook.deliveryId,
        'x-relay-referral': hook.referralId,
      },
      body: hook.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return classifyHttpStatus(response.status, parseRetryAfter(response.headers.get('retry-after'), now));
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.name ?? 'network error');
    return { kind: 'temporary', detail: `network: ${reason}` };
  }
}
