import type { Attachment, ParsedMail } from 'mailparser';

/**
 * Reads a delivery status notification (RFC 3464) — or a bounce that only looks like one — into
 * the few facts Relay keeps: which delivery it names, what happened, and the remote diagnostic.
 * Pure: no I/O, so every MTA's quirks can be pinned by fixtures.
 */

export const DSN_ACTIONS = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'] as const;
export type DsnAction = (typeof DSN_ACTIONS)[number] | 'unknown';

export interface Dsn {
  deliveryId?: string;
  action: DsnAction;
  /** The enhanced status code (RFC 3463), e.g. `5.1.1`. */
  status?: string;
  /** The remote server's words, e.g. `smtp; 550 5.1.1 <x@example.org>: Recipient address rejected`. */
  diagnostic?: string;
  remoteMta?: string;
  finalRecipient?: string;
}

export interface DsnOptions {
  /** The RCPT TO the bounce arrived for: `bounce+<deliveryId>@BOUNCE_DOMAIN`. */
  envelopeRecipient?: string;
  /** When given, only addresses and Message-IDs in this domain can name a delivery. */
  bounceDomain?: string;
}

/** What parseDsn reads of a mailparser result, so tests and callers need not build a whole one. */
export type DsnMail = Pick<ParsedMail, 'text' | 'attachments' | 'inReplyTo' | 'references'>;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID_ONLY = new RegExp(`^<?(${UUID})>?$`, 'i');
const BOUNCE_ADDRESS = new RegExp(`^bounce\\+(${UUID})@([^@\\s]+)$`, 'i');
const MESSAGE_ID = new RegExp(`<(${UUID})@([^>\\s]+)>`, 'gi');
const QUOTED_DELIVERY_HEADER = new RegExp(`^[ \\t>]*X-Relay-Delivery:[ \\t]*<?(${UUID})`, 'im');
const QUOTED_MESSAGE_ID = new RegExp(`^[ \\t>]*Message-ID:[ \\t]*(<${UUID}@[^>\\s]+>)`, 'gim');
const ENHANCED_STATUS = /(?<![\w.])([245]\.\d{1,3}\.\d{1,3})(?![\w.])/;
const REPLY_AND_STATUS = /(?<![\w.])[45]\d\d[ -]([45]\.\d{1,3}\.\d{1,3})(?![\w.])/;
// Where a plain-text bounce starts quoting the original message; status codes below it are not the bounce's.
const QUOTED_ORIGINAL = /^[ \t>]*(Return-Path|Received):/im;

const DELIVERY_STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const RETURNED_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
]);

type Fields = Map<string, string>;

interface Sources {
  /** Decoded `message/delivery-status` parts, when the parser kept them apart. */
  statusText: string;
  /** The human-readable text (and, for raw input, everything after the top-level headers). */
  bodyText: string;
  /** Header blocks of returned `message/rfc822` or `text/rfc822-headers` parts. */
  returnedHeaders: Fields[];
  /** The bounce's own In-Reply-To and References: some servers (Exchange) thread it on the original. */
  threadIds: string[];
}

/**
 * Parse a mailparser result (best with `keepDeliveryStatus: true`, which keeps the
 * `message/delivery-status` part as an attachment instead of folding it into `text`) or raw text.
 */
export function parseDsn(input: DsnMail | string | Buffer, options: DsnOptions = {}): Dsn {
  const sources = typeof input === 'string' || Buffer.isBuffer(input) ? fromRaw(input) : fromParsed(input);
  const report =
    readReport(sources.statusText) ?? readReport(sources.bodyText) ?? readPlainText(sources.bodyText);
  const deliveryId = findDeliveryId(sources, options);
  return compact({ deliveryId, ...report });
}

function fromParsed(mail: DsnMail): Sources {
  const of = (types: Set<string>): Attachment[] =>
    mail.attachments.filter((a) => types.has(a.contentType.toLowerCase()));
  const references = Array.isArray(mail.references) ? mail.references : [mail.references];
  return {
    statusText: of(DELIVERY_STATUS_TYPES)
      .map((a) => normaliseNewlines(a.content.toString('utf8')))
      .join('\n\n'),
    bodyText: normaliseNewlines(mail.text ?? ''),
    returnedHeaders: of(RETURNED_TYPES).map((a) =>
      parseFields(firstParagraph(normaliseNewlines(a.content.toString('utf8')))),
    ),
    threadIds: [mail.inReplyTo, ...references].filter((id): id is string => typeof id === 'string'),
  };
}

function fromRaw(raw: string | Buffer): Sources {
  const text = normaliseNewlines(typeof raw === 'string' ? raw : raw.toString('utf8'));
  // A whole message starts with a header field; otherwise the text is a body on its own.
  const hasHeaders = /^[!-9;-~]+:/.test(text);
  const split = hasHeaders ? text.search(/\n[ \t]*\n/) : 0;
  const headerText = hasHeaders ? text.slice(0, split < 0 ? text.length : split) : '';
  const top = parseFields(headerText);
  return {
    statusText: '',
    bodyText: hasHeaders ? (split < 0 ? '' : text.slice(split)) : text,
    returnedHeaders: [],
    threadIds: [top.get('in-reply-to'), top.get('references')].filter((id): id is string => id !== undefined),
  };
}

type Report = Omit<Dsn, 'deliveryId'>;

/**
 * RFC 3464: a per-message block, then one block per recipient, separated by blank lines. Blocks
 * are found by their fields rather than their position, so the same reader also works on text where
 * the status part was folded in after the human-readable notice.
 */
function readReport(text: string): Report | undefined {
  const recipients = paragraphs(text)
    .map(parseFields)
    .filter((fields) => fields.has('action') && (fields.has('status') || fields.has('final-recipient')));
  const chosen = pickRecipient(recipients);
  if (!chosen) return undefined;
  const diagnostic = chosen.get('diagnostic-code');
  const status = matchStatus(chosen.get('status')) ?? matchStatus(diagnostic);
  return {
    action: toAction(chosen.get('action')),
    status,
    diagnostic,
    remoteMta: withoutType(chosen.get('remote-mta')),
    finalRecipient: withoutType(chosen.get('final-recipient')),
  };
}

// One delivery goes to one address, so several recipient blocks are unusual; a failure matters most.
function pickRecipient(blocks: Fields[]): Fields | undefined {
  const rank = (fields: Fields): number => {
    const action = toAction(fields.get('action'));
    return action === 'failed' ? 0 : action === 'delayed' ? 1 : action === 'unknown' ? 3 : 2;
  };
  return [...blocks].sort((a, b) => rank(a) - rank(b))[0];
}

/** Bounces that are not multipart/report (qmail and friends): the first SMTP status in the notice. */
function readPlainText(text: string): Report {
  const quoted = text.search(QUOTED_ORIGINAL);
  const notice = unfold(quoted < 0 ? text : text.slice(0, quoted));
  const match = REPLY_AND_STATUS.exec(notice) ?? ENHANCED_STATUS.exec(notice);
  const status = match?.[1];
  if (!match || !status) return { action: 'unknown' };
  const lineEnd = notice.indexOf('\n', match.index);
  const diagnostic = notice.slice(match.index, lineEnd < 0 ? undefined : lineEnd).trim();
  return {
    action: status.startsWith('5') ? 'failed' : status.startsWith('4') ? 'delayed' : 'unknown',
    status,
    diagnostic,
  };
}

function findDeliveryId(sources: Sources, options: DsnOptions): string | undefined {
  const fromEnvelope = options.envelopeRecipient
    ? deliveryIdFromBounceAddress(options.envelopeRecipient, options.bounceDomain)
    : undefined;
  if (fromEnvelope) return fromEnvelope;

  for (const headers of sources.returnedHeaders) {
    const id = UUID_ONLY.exec(headers.get('x-relay-delivery')?.trim() ?? '')?.[1];
    if (id) return id.toLowerCase();
  }
  const quoted = QUOTED_DELIVERY_HEADER.exec(sources.bodyText)?.[1];
  if (quoted) return quoted.toLowerCase();

  const messageIds = [
    ...sources.returnedHeaders.map((headers) => headers.get('message-id') ?? ''),
    ...sources.threadIds,
    ...[...sources.bodyText.matchAll(QUOTED_MESSAGE_ID)].map((m) => m[1] ?? ''),
  ];
  for (const value of messageIds) {
    for (const [, id, domain] of value.matchAll(MESSAGE_ID)) {
      if (id && domain && inDomain(domain, options.bounceDomain)) return id.toLowerCase();
    }
  }
  return undefined;
}

/** The delivery id in `bounce+<uuid>@domain` (angle brackets allowed), or undefined for any other address. */
export function deliveryIdFromBounceAddress(address: string, bounceDomain?: string): string | undefined {
  const match = BOUNCE_ADDRESS.exec(address.trim().replace(/^<|>$/g, ''));
  if (!match?.[1] || !match[2] || !inDomain(match[2], bounceDomain)) return undefined;
  return match[1].toLowerCase();
}

function inDomain(domain: string, bounceDomain: string | undefined): boolean {
  return bounceDomain === undefined || domain.toLowerCase() === bounceDomain.toLowerCase();
}

/** Header-style fields, unfolded; the first of a repeated name wins. Lines that are not fields are skipped. */
function parseFields(block: string): Fields {
  const fields: Fields = new Map();
  let current: string | undefined;
  for (const line of block.split('\n')) {
    const continuation = /^[ \t]+\S/.test(line);
    if (continuation && current !== undefined) {
      fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`.trim());
      continue;
    }
    const field = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    const name = field?.[1]?.toLowerCase();
    if (!field || !name || fields.has(name)) {
      current = undefined;
      continue;
    }
    fields.set(name, (field[2] ?? '').trim());
    current = name;
  }
  return fields;
}

function toAction(value: string | undefined): DsnAction {
  const word =
    value
      ?.trim()
      .toLowerCase()
      .split(/[\s;(]/)[0] ?? '';
  return (DSN_ACTIONS as readonly string[]).includes(word) ? (word as DsnAction) : 'unknown';
}

function matchStatus(value: string | undefined): string | undefined {
  return value === undefined ? undefined : ENHANCED_STATUS.exec(value)?.[1];
}

/** `rfc822; x@example.org` → `x@example.org`; `dns; mx.example.org` → `mx.example.org`. */
function withoutType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(';');
  return (semicolon < 0 ? value : value.slice(semicolon + 1)).trim() || undefined;
}

function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function unfold(text: string): string {
  return text.replace(/\n[ \t]+(?=\S)/g, ' ');
}

function paragraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n/).filter((p) => p.trim() !== '');
}

function firstParagraph(text: string): string {
  return paragraphs(text)[0] ?? '';
}

function compact(dsn: Dsn): Dsn {
  return Object.fromEntries(
    Object.entries(dsn).filter(([, value]) => value !== undefined && value !== ''),
  ) as unknown as Dsn;
}
