import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { AttemptOutcome } from '../retry.policy.ts';
import { guardedLookup, isRefused, WebhookAddressRefused, type WebhookPolicy } from './webhook.address.ts';

export interface OutgoingWebhook {
  url: string;
  secret: string;
  deliveryId: string;
  referralId: string;
  body: string;
  /** application/fhir+json for a FHIR Bundle; Relay's JSON (the default) otherwise. */
  contentType?: string;
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

/** Kept-alive connections per policy, so a socket opened under one policy never serves another. */
const agents = new Map<string, { http: http.Agent; https: https.Agent }>();

function agentsFor(policy: WebhookPolicy) {
  const key = `${policy.allowPrivate}`;
  let found = agents.get(key);
  if (!found) {
    found = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    agents.set(key, found);
  }
  return found;
}

/** Refusals known before connecting: the scheme, and a literal IP (which no lookup will see). */
function refuseBeforeConnecting(url: URL, policy: WebhookPolicy): AttemptOutcome | undefined {
  if (url.protocol !== 'https:' && (policy.httpsOnly || url.protocol !== 'http:'))
    return {
      kind: 'permanent',
      detail: `refused: ${policy.httpsOnly ? 'webhooks must use https in production' : 'not an http(s) URL'}`,
    };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const found = isIP(host) ? isRefused(host, policy) : undefined;
  if (found) return { kind: 'permanent', detail: new WebhookAddressRefused(host, host, found).message };
  return undefined;
}

/**
 * POSTs the signed body. Redirects are never followed (the referral goes only where the directory
 * says); the address is checked as the socket connects; a refused address fails the delivery for
 * good, which the watchdog escalates.
 */
export async function sendWebhook(
  hook: OutgoingWebhook,
  policy: WebhookPolicy,
  timeoutMs: number,
  now: Date,
): Promise<AttemptOutcome> {
  const url = URL.canParse(hook.url) ? new URL(hook.url) : undefined;
  if (!url) return { kind: 'permanent', detail: 'refused: not a URL' };
  const early = refuseBeforeConnecting(url, policy);
  if (early) return early;
  const signal = AbortSignal.timeout(timeoutMs);
  const pool = agentsFor(policy);
  return new Promise<AttemptOutcome>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: url.protocol === 'https:' ? pool.https : pool.http,
      lookup: guardedLookup(policy),
      signal,
      headers: {
        'content-type': hook.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(hook.body),
        'x-relay-signature': webhookSignature(hook.secret, hook.body),
        'x-relay-delivery': hook.deliveryId,
        'x-relay-referral': hook.referralId,
      },
    });
    request.on('response', (response) => {
      // The answer's body is not read; the timeout still ends one that never stops.
      response.resume();
      const retryAfter = response.headers['retry-after'];
      resolve(classifyHttpStatus(response.statusCode ?? 0, parseRetryAfter(retryAfter ?? null, now)));
    });
    request.on('error', (error) => resolve(networkFailure(error, signal)));
    request.end(hook.body);
  });
}

function networkFailure(error: Error, signal: AbortSignal): AttemptOutcome {
  if (error instanceof WebhookAddressRefused) return { kind: 'permanent', detail: error.message };
  if (signal.aborted) return { kind: 'temporary', detail: 'network: timed out' };
  const code = (error as { code?: string }).code;
  return { kind: 'temporary', detail: `network: ${code ?? error.name ?? 'network error'}` };
}
