import type { FastifyRequest } from 'fastify';

/**
 * The URL as a request log may show it. Acknowledge links carry a 30-day bearer token in the path
 * (`/ack/<token>`: anyone holding it can acknowledge), and query strings carry search terms such as
 * surnames, so the token and the whole query are replaced.
 */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const query = at === -1 ? '' : '?[redacted]';
  return path.replace(/^\/ack\/[^/]+/, '/ack/[token]') + query;
}

/** Fastify's request serializer with the URL made loggable; the rest as Fastify logs it. */
export const REQUEST_LOG_SERIALIZERS = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: loggableUrl(request.url),
      host: request.host,
      // Behind a reverse proxy named in TRUST_PROXY, the forwarded client and scheme; otherwise the socket's.
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
      protocol: request.protocol,
    };
  },
};
