import type { FastifyRequest } from 'fastify';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import type { ApiKey, ApiScope } from './apikey.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
}

/** Resolves `Authorization: Bearer <key>` and insists on one of the given scopes. */
export async function requireApiKey(
  ctx: RelayContext,
  request: FastifyRequest,
  scopes: readonly ApiScope[],
): Promise<ApiKey> {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new RelayError('unauthenticated', 'Send an API key as Authorization: Bearer <key>');
  const apiKey = await ctx.apiKeys.authenticate(match[1]);
  if (!apiKey) throw new RelayError('unauthenticated', 'The API key is not recognised or has been revoked');
  if (!scopes.includes(apiKey.scope)) {
    throw new RelayError('forbidden', `This key's scope (${apiKey.scope}) does not allow this request`);
  }
  request.apiKey = apiKey;
  return apiKey;
}
