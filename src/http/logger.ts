import type { FastifyBaseLogger } from 'fastify';
import { pino, type DestinationStream } from 'pino';
import { REQUEST_LOG_SERIALIZERS } from './request-log.ts';

/** Personal data must never reach a log line: bodies are never logged, and these paths are redacted. */
export const LOG_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'body', 'payload'];

/** As Fastify types it, so the same logger serves the HTTP server and everything beside it. */
export type RelayLogger = FastifyBaseLogger;

/**
 * The one logger of a `relay start` process: JSON lines on standard output, shared by the HTTP
 * server, the dispatcher, the watchdog and the start-up and shutdown lines, so a log shipper can
 * parse every line it reads (docs/operations.md, Logs). Text meant for a person (the demo's
 * passwords) goes to standard error instead. `destination` is for tests that read the lines.
 */
export function createLogger(level: string, destination?: DestinationStream): RelayLogger {
  const options = { level, redact: LOG_REDACT, serializers: REQUEST_LOG_SERIALIZERS };
  return destination ? pino(options, destination) : pino(options);
}
