import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireApiKey } from '../access/apikey.auth.ts';
import type { RelayContext } from '../context.ts';
import { controlCharacterIssues } from '../http/control-characters.ts';
import { RelayError } from '../errors.ts';
import { statusDocument, summaryOf } from './referral.document.ts';
import { findReferral, listReferrals, type ReferralRow } from '../records/referral.repository.ts';
import { keyMayRead } from './referral.access.ts';
import { intakeReferral } from './referral.service.ts';
import { REFERRAL_STATUSES } from '../records/referral.status.ts';

export const ListQuery = z.strictObject({
  status: z.enum(REFERRAL_STATUSES).optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

interface Cursor {
  updatedAt: string;
  id: string;
}

function encodeCursor(row: ReferralRow): string {
  return Buffer.from(JSON.stringify({ updatedAt: row.updated_at, id: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.updatedAt === 'string' && typeof value.id === 'string') {
      // What a cursor carries goes into a query: PostgreSQL would fail on a NUL (a 500, not a 4xx).
      if (controlCharacterIssues(value).length > 0) {
        throw new RelayError('validation-failed', 'The cursor contains characters Relay does not accept', [
          { path: 'cursor', message: 'Use the nextCursor from the previous page' },
        ]);
      }
      return { updatedAt: value.updatedAt, id: value.id };
    }
  } catch (error) {
    if (error instanceof RelayError) throw error;
    // falls through to the clear error below
  }
  throw new RelayError('invalid-query', 'The cursor is not one this API gave out', [
    { path: 'cursor', message: 'Use the nextCursor from the previous page' },
  ]);
}

/** A repeat's answer: the referral as it stands now, which may have moved on since it was raised. */
async function readBack(ctx: RelayContext, id: string) {
  const referral = await findReferral(ctx.db.kysely, id);
  if (!referral) throw new Error('Accepted referral could not be read back');
  return statusDocument(ctx, referral);
}

export function registerReferralRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post('/api/v1/referrals', async (request, reply) => {
    const key = await requireApiKey(ctx, request, ['referrals:write']);
    const result = await intakeReferral(ctx, request.body, {
      actor: `apikey:${key.id}`,
      keyId: key.id,
      sourceSystem: key.sourceSystem,
    });
    reply.header('location', `/api/v1/referrals/${result.id}`);
    return reply
      .code(result.created ? 201 : 200)
      .send(result.receipt?.() ?? (await readBack(ctx, result.id)));
  });

  app.get<{ Params: { id: string } }>('/api/v1/referrals/:id', async (request) => {
    const key = await requireApiKey(ctx, request, ['referrals:write', 'acknowledgements:write']);
    const referral = await findReferral(ctx.db.kysely, request.params.id);
    if (!referral || !(await keyMayRead(ctx, key, referral))) {
      throw new RelayError('not-found', 'No referral with that id is visible to this key');
    }
    return statusDocument(ctx, referral);
  });

  app.get('/api/v1/referrals', async (request) => {
    const key = await requireApiKey(ctx, request, ['referrals:write', 'acknowledgements:write']);
    const parsed = ListQuery.safeParse(request.query);
    if (!parsed.success) {
      throw new RelayError(
        'invalid-query',
        undefined,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const query = parsed.data;
    const rows = await listReferrals(ctx.db.kysely, {
      status: query.status,
      updatedSince: query.updatedSince && new Date(query.updatedSince).toISOString(),
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
      ...(key.scope === 'referrals:write'
        ? { raisedBy: { keyId: key.id, sourceSystem: key.sourceSystem } }
        : { routedTo: key.teamId ?? '' }),
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(summaryOf),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  });
}
