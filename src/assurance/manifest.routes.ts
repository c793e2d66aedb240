import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireApiKey } from '../access/apikey.auth.ts';
import type { ApiKey } from '../access/apikey.service.ts';
import type { RelayContext } from '../context.ts';
import { isValidIsoDate } from '../directory/hours.ts';
import { RelayError } from '../errors.ts';
import { parseRequest } from '../http/request-body.ts';
import { londonYesterday } from './jobs/schedule.ts';
import { DISPUTE_REASONS, disputeManifestEntry, manifestFor } from './manifest.service.ts';

const ManifestQuery = z.strictObject({
  date: z.string().refine(isValidIsoDate, 'Give a date as YYYY-MM-DD').optional(),
});

export const DisputeBody = z
  .strictObject({
    reference: z.string().regex(/^SR-[0-9]{4}-[0-9]{6}$/, 'Give a reference like SR-2026-000123'),
    reason: z.enum(DISPUTE_REASONS),
    note: z.string().trim().max(2000).optional(),
  })
  .refine((d) => d.reason !== 'other' || (d.note ?? '') !== '', {
    path: ['note'],
    message: 'Say what is wrong when the reason is other',
  });

/** Only the team's own system reads or disputes its manifest: a key bound to that team. */
async function requireKeyFor(ctx: RelayContext, request: FastifyRequest, team: string): Promise<ApiKey> {
  const key = await requireApiKey(ctx, request, ['acknowledgements:write']);
  if (key.teamId !== team) throw new RelayError('forbidden', 'This key is not bound to that team');
  return key;
}

/** The daily manifest by API (docs/api.md, Daily manifest), so a team's system can reconcile what it should have received. */
export function registerManifestRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: { team: string } }>('/api/v1/teams/:team/manifest', async (request) => {
    await requireKeyFor(ctx, request, request.params.team);
    const query = parseRequest(ManifestQuery, request.query, 'invalid-query');
    const date = query.date ?? londonYesterday(ctx.clock.now());
    return manifestFor(ctx.db.kysely, request.params.team, date);
  });

  app.post<{ Params: { team: string } }>('/api/v1/teams/:team/manifest/disputes', async (request, reply) => {
    const key = await requireKeyFor(ctx, request, request.params.team);
    const body = parseRequest(DisputeBody, request.body, 'validation-failed');
    const result = await disputeManifestEntry(ctx, request.params.team, body, `apikey:${key.id}`);
    return reply.code(result.opened ? 201 : 200).send({
      escalationId: result.escalationId,
      reference: body.reference,
      reason: body.reason,
      opened: result.opened,
    });
  });
}
