import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { RelayContext } from '../../context.ts';
import { toError } from '../../errors.ts';
import { applyBounce, type BounceOutcome } from './bounce.service.ts';
import { deliveryIdFromBounceAddress, parseDsn, type Dsn } from './dsn.parser.ts';

export interface BounceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BounceListenerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  logger: BounceLogger;
}

export interface BounceListener {
  port: number;
  close(): Promise<void>;
}

export const MAX_BOUNCE_BYTES = 10 * 1024 * 1024;

/**
 * Receives delivery status notifications over SMTP (docs/operations.md, Bounces). Every recipient is accepted
 * — refusing one would make the reporting MTA bounce the bounce — but only `bounce+<id>@BOUNCE_DOMAIN`
 * is acted on. Logs carry the delivery id, action, status and outcome: never addresses or content,
 * because a returned message is a referral.
 */
export async function startBounceListener(
  ctx: RelayContext,
  options: BounceListenerOptions,
): Promise<BounceListener> {
  const { logger } = options;
  const server = new SMTPServer({
    name: ctx.config.bounceDomain,
    banner: 'Safeguard Relay bounce listener',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    size: MAX_BOUNCE_BYTES,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!deliveryIdFromBounceAddress(address.address, ctx.config.bounceDomain)) {
        logger.info({}, 'Bounce listener: ignoring a recipient that is not a bounce address');
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= MAX_BOUNCE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          logger.warn({ bytes }, 'Bounce listener: refused a message over the size limit');
          callback(smtpError(552, 'Message exceeds the size limit'));
          return;
        }
        handleMessage(ctx, logger, Buffer.concat(chunks), session.envelope.rcptTo).then(
          () => callback(),
          (thrown: unknown) => {
            // The database is the likely cause: a temporary reply makes the MTA try again later.
            logger.error({ error: toError(thrown).message }, 'Bounce listener: could not record a bounce');
            callback(smtpError(451, 'Temporary failure, try again later'));
          },
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A broken connection must not crash the process; smtp-server reports it here.
  server.on('error', (error: Error) => logger.warn({ error: error.message }, 'Bounce listener: SMTP error'));
  const port = (server.server.address() as AddressInfo).port;
  logger.info({ port }, 'Bounce listener: accepting delivery status notifications');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handleMessage(
  ctx: RelayContext,
  logger: BounceLogger,
  raw: Buffer,
  recipients: SMTPServerAddress[],
): Promise<void> {
  const bounceDomain = ctx.config.bounceDomain;
  const ours = recipients
    .map((r) => r.address)
    .filter((address) => deliveryIdFromBounceAddress(address, bounceDomain) !== undefined);
  if (ours.length === 0) {
    logger.info({}, 'Bounce listener: ignored a message with no bounce recipient');
    return;
  }
  let mail: ParsedMail;
  try {
    // keepDeliveryStatus: without it, mailparser folds the message/delivery-status part into `text`.
    mail = await simpleParser(raw, { keepDeliveryStatus: true });
  } catch {
    logger.warn({}, 'Bounce listener: ignored a message that could not be parsed');
    return;
  }
  for (const envelopeRecipient of new Set(ours)) {
    const dsn = parseDsn(mail, { envelopeRecipient, bounceDomain });
    const outcome = await applyBounce(ctx, dsn);
    log(logger, dsn, outcome);
  }
}

const MESSAGES: Record<BounceOutcome, string> = {
  bounced: 'Bounce listener: delivery bounced',
  'ignored-not-failed': 'Bounce listener: status notification is not a failure; nothing changed',
  'ignored-unknown': 'Bounce listener: no email delivery with this id; ignored',
  'ignored-state': 'Bounce listener: delivery is not in state sent; ignored',
};

function log(logger: BounceLogger, dsn: Dsn, outcome: BounceOutcome): void {
  const fields = { deliveryId: dsn.deliveryId, action: dsn.action, status: dsn.status, outcome };
  if (outcome === 'ignored-not-failed') logger.info(fields, MESSAGES[outcome]);
  else logger.warn(fields, MESSAGES[outcome]);
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}
