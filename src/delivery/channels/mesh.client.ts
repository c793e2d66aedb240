import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { MeshConfig } from '../../config.mesh.ts';
import type { AttemptOutcome } from '../retry.policy.ts';
import { classifyHttpStatus, parseRetryAfter } from './webhook.channel.ts';

/**
 * Relay's side of the NHS MESH API (v1 paths, as the MESH client and the mesh-sandbox speak them):
 * send to the outbox, read the tracking of what was sent, and read Relay's own inbox, where MESH
 * puts a non-delivery report. Every request carries the NHSMESH Authorization header; over https
 * the connection also presents Relay's client certificate.
 */

/** One message for the outbox. The subject and file name are seen by MESH operators: no personal data. */
export interface MeshOutgoing {
  to: string;
  workflowId: string;
  subject: string;
  /** Relay's delivery id, so tracking and a non-delivery report name the delivery. */
  localId: string;
  filename: string;
  contentType: string;
  body: string;
}

/** What tracking says of one sent message. */
export interface MeshTracking {
  /** MESH's status, lower-cased: accepted, acknowledged (downloaded), undeliverable, error... */
  status: string;
  /** False once MESH reports the message failed (statusSuccess ERROR, a failure date). */
  success: boolean;
  /** MESH's own words for a failure, e.g. that the recipient did not download it in time. */
  diagnostic: string | undefined;
}

/** A report (non-delivery) MESH left in Relay's inbox, about a message Relay sent. */
export interface MeshReport {
  messageId: string;
  /** The message the report is about, and the local id (delivery id) it was sent with. */
  linkedMessageId: string | undefined;
  localId: string | undefined;
  statusCode: string | undefined;
  description: string | undefined;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** `NHSMESH mailbox:nonce:nonce_count:timestamp:hmac`, the HMAC-SHA256 keyed with the shared key. */
export function meshAuthorization(
  config: Pick<MeshConfig, 'mailbox' | 'password' | 'sharedKey'>,
  now: Date,
  nonce: string = randomUUID(),
  nonceCount = 0,
): string {
  // yyyyMMddHHmm in UTC, as MESH expects.
  const timestamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  const signed = `${config.mailbox}:${nonce}:${nonceCount}:${config.password}:${timestamp}`;
  const hmac = createHmac('sha256', config.sharedKey).update(signed).digest('hex');
  return `NHSMESH ${config.mailbox}:${nonce}:${nonceCount}:${timestamp}:${hmac}`;
}

/** One agent per configuration: kept-alive connections, and the client certificate read once. */
const agents = new WeakMap<MeshConfig, http.Agent>();

function agentFor(config: MeshConfig): http.Agent {
  let agent = agents.get(config);
  if (!agent) {
    agent = config.url.startsWith('https:')
      ? new https.Agent({
          keepAlive: true,
          ...(config.clientCert ? { cert: readFileSync(config.clientCert) } : {}),
          ...(config.clientKey ? { key: readFileSync(config.clientKey) } : {}),
          ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}),
        })
      : new http.Agent({ keepAlive: true });
    agents.set(config, agent);
  }
  return agent;
}

/** The MESH error's code and description (fixed MESH wording, never the message), when it gave them. */
function meshError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errorCode?: unknown; errorDescription?: unknown; detail?: unknown };
    const parts = [parsed.errorCode, parsed.errorDescription].filter((p) => typeof p === 'string' && p);
    return parts.length > 0 ? `: ${parts.join(' ').slice(0, 120)}` : '';
  } catch {
    return '';
  }
}

export class MeshClient {
  constructor(
    private readonly config: MeshConfig,
    private readonly timeoutMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Sends one message: a 202 with its messageID is `sent`; other answers are classified as for HTTP. */
  async send(message: MeshOutgoing): Promise<AttemptOutcome> {
    const { mailbox } = this.config;
    let answer: Answer;
    try {
      answer = await this.request('POST', `/messageexchange/${mailbox}/outbox`, message.body, {
        'content-type': message.contentType,
        'mex-from': mailbox,
        'mex-to': message.to,
        'mex-workflowid': message.workflowId,
        'mex-subject': message.subject,
        'mex-localid': message.localId,
        'mex-filename': message.filename,
        'mex-content-type': message.contentType,
      });
    } catch (error) {
      return transportFailure(error);
    }
    const retryAfter = parseRetryAfter(headerText(answer.headers['retry-after']) ?? null, this.now());
    const outcome = classifyHttpStatus(answer.status, retryAfter);
    if (outcome.kind !== 'sent')
      return { ...outcome, detail: `MESH ${outcome.detail}${meshError(answer.body)}` };
    const messageId = readMessageId(answer.body);
    // Accepted without an id would leave nothing to track: treated as a fault of the server, retried.
    if (!messageId) return { kind: 'temporary', detail: `MESH HTTP ${answer.status} without a messageID` };
    return { kind: 'sent', detail: `MESH HTTP ${answer.status}`, providerMessageId: messageId };
  }

  /** Tracking of a message Relay sent; undefined when MESH does not know it (404). */
  async tracking(messageId: string): Promise<MeshTracking | undefined> {
    const path = `/messageexchange/${this.config.mailbox}/outbox/tracking?messageID=${encodeURIComponent(messageId)}`;
    const answer = await this.request('GET', path);
    if (answer.status === 404) return undefined;
    this.expectOk(answer, 'tracking');
    const t = JSON.parse(answer.body) as Record<string, unknown>;
    const status = String(t.status ?? '').toLowerCase();
    const failed =
      t.statusSuccess === 'ERROR' || Boolean(t.failureDate) || ['undeliverable', 'error'].includes(status);
    const diagnostic = [t.failureDiagnostic, t.statusDescription].find((d) => typeof d === 'string' && d);
    return { status, success: !failed, diagnostic: diagnostic as string | undefined };
  }

  /** Ids of the messages waiting in Relay's inbox. */
  async inbox(): Promise<string[]> {
    const answer = await this.request('GET', `/messageexchange/${this.config.mailbox}/inbox`);
    this.expectOk(answer, 'inbox');
    return ((JSON.parse(answer.body) as { messages?: string[] }).messages ?? []).map(String);
  }

  /** A report in Relay's inbox, read by its headers; undefined for a data message (not a report). */
  async report(messageId: string): Promise<MeshReport | undefined> {
    const path = `/messageexchange/${this.config.mailbox}/inbox/${encodeURIComponent(messageId)}`;
    // HEAD: the headers say what it is, without downloading a data message meant for someone else.
    const answer = await this.request('HEAD', path);
    this.expectOk(answer, 'inbox message');
    const h = (name: string) => headerText(answer.headers[name]) || undefined;
    if (h('mex-messagetype')?.toUpperCase() !== 'REPORT') return undefined;
    return {
      messageId,
      linkedMessageId: h('mex-linkedmsgid'),
      localId: h('mex-localid'),
      statusCode: h('mex-statuscode'),
      description: h('mex-statusdescription'),
    };
  }

  /** Removes a message Relay has dealt with from its inbox. */
  async acknowledge(messageId: string): Promise<void> {
    const path = `/messageexchange/${this.config.mailbox}/inbox/${encodeURIComponent(messageId)}/status/acknowledged`;
    this.expectOk(await this.request('PUT', path), 'acknowledge');
  }

  private expectOk(answer: Answer, what: string): void {
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`MESH ${what}: HTTP ${answer.status}${meshError(answer.body)}`);
  }

  private request(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const url = new URL(`${this.config.url}${path}`);
    const signal = AbortSignal.timeout(this.timeoutMs);
    return new Promise<Answer>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method,
        agent: agentFor(this.config),
        signal,
        headers: {
          ...headers,
          accept: 'application/json',
          authorization: meshAuthorization(this.config, this.now()),
          ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      });
      request.on('error', (error) => reject(signal.aborted ? new Error('timed out') : error));
      request.end(body);
    });
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readMessageId(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { messageID?: unknown; message_id?: unknown };
    const id = parsed.messageID ?? parsed.message_id;
    return typeof id === 'string' && id ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * OpenSSL's and Node's codes for a TLS handshake refused over certificates: MESH refusing Relay's
 * client certificate (missing, expired, another CA's), or Relay refusing MESH's (not signed by
 * MESH_CA_FILE, wrong name).
 */
const CERTIFICATE_REFUSAL =
  /^ERR_SSL_(?:TLSV1[0-9]?_ALERT_|SSLV3_ALERT_)|CERT|_CA$|^UNABLE_TO_|SELF_SIGNED|^ERR_TLS_/;

/**
 * A connection that failed or timed out may succeed later: retried, as MESH's own client does. A
 * certificate refused either way will not mend by waiting: it is a setting or a certificate to
 * renew, so the delivery fails at once and the watchdog puts it before a person.
 */
function transportFailure(error: unknown): AttemptOutcome {
  const e = error as { code?: string; message?: string };
  if (e.code && CERTIFICATE_REFUSAL.test(e.code))
    return { kind: 'permanent', detail: `MESH TLS: certificate refused (${e.code})` };
  if (e.message === 'timed out') return { kind: 'temporary', detail: 'MESH network: timed out' };
  return { kind: 'temporary', detail: `MESH network: ${e.code ?? e.message ?? 'network error'}` };
}
