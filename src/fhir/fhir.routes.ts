/**
 * The FHIR R4 API under /api/fhir/R4 (docs/api.md, FHIR): a referral request by `$process-message`,
 * its progress as Tasks, and the CapabilityStatement. Its own Fastify context, so that every answer,
 * errors included, is FHIR JSON.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requireApiKey } from '../access/apikey.auth.ts';
import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { findReferral } from '../records/referral.repository.ts';
import { keyMayRead } from '../referrals/referral.access.ts';
import { statusDocument } from '../referrals/referral.document.ts';
import { capabilityStatement } from './capability.ts';
import { BARS_EVENTS_SYSTEM, REFERRAL_REQUEST_EVENT } from './fhir.codes.ts';
import { processReferralMessage } from './fhir.intake.ts';
import { FHIR_JSON, registerOutcomeHandlers } from './operation-outcome.ts';
import { tasksOf } from './task.ts';
import { CHECKS_OWN_TEXT, refuseFhirControlCharacters } from './text.guard.ts';

export const FHIR_BASE = '/api/fhir/R4';

const FOCUS = /^ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/;

/** The answer to a request message: its MessageHeader (code ok) and the referral's Tasks. */
function responseMessage(baseUrl: string, requestId: string, at: string, tasks: { id: string }[]) {
  const headerId = randomUUID();
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'message',
    timestamp: at,
    entry: [
      {
        fullUrl: `urn:uuid:${headerId}`,
        resource: {
          resourceType: 'MessageHeader',
          id: headerId,
          eventCoding: { system: BARS_EVENTS_SYSTEM, code: REFERRAL_REQUEST_EVENT },
          source: { name: 'safeguard-relay', endpoint: `${baseUrl}${FHIR_BASE}/$process-message` },
          response: { identifier: requestId, code: 'ok' },
          focus: tasks.map((t) => ({ reference: `Task/${t.id}` })),
        },
      },
      ...tasks.map((resource) => ({ fullUrl: `${baseUrl}${FHIR_BASE}/Task/${resource.id}`, resource })),
    ],
  };
}

function searchset(baseUrl: string, self: string, tasks: { id: string }[]) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: tasks.length,
    link: [{ relation: 'self', url: `${baseUrl}${self}` }],
    entry: tasks.map((resource) => ({
      fullUrl: `${baseUrl}${FHIR_BASE}/Task/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

function focusOf(query: unknown): string {
  const focus = (query as Record<string, unknown> | undefined)?.focus;
  const match = typeof focus === 'string' ? FOCUS.exec(focus) : null;
  if (!match?.[1]) {
    throw new RelayError('invalid-query', 'Search by focus=ServiceRequest/{id}, the id Relay answered with', [
      { path: 'focus', message: 'Must be ServiceRequest/ followed by the referral id.' },
    ]);
  }
  return match[1];
}

export function registerFhirRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const baseUrl = ctx.config.baseUrl;
  void app.register(
    async (api) => {
      registerOutcomeHandlers(api);
      api.addHook('preValidation', refuseFhirControlCharacters);
      api.addContentTypeParser(FHIR_JSON, { parseAs: 'string' }, api.getDefaultJsonParser('error', 'error'));

      api.get('/metadata', CHECKS_OWN_TEXT, async (_request, reply) =>
        reply.type(FHIR_JSON).send(capabilityStatement(baseUrl, ctx.clock.now().toISOString())),
      );

      api.post('/$process-message', CHECKS_OWN_TEXT, async (request, reply) => {
        const key = await requireApiKey(ctx, request, ['referrals:write']);
        const result = await processReferralMessage(ctx, request.body, {
          actor: `apikey:${key.id}`,
          keyId: key.id,
          sourceSystem: key.sourceSystem,
        });
        const referral = await findReferral(ctx.db.kysely, result.id);
        if (!referral) throw new Error('Accepted referral could not be read back');
        const tasks = tasksOf(await statusDocument(ctx, referral));
        const at = ctx.clock.now().toISOString();
        reply.header('location', `/api/v1/referrals/${result.id}`);
        return reply
          .code(result.created ? 201 : 200)
          .type(FHIR_JSON)
          .send(responseMessage(baseUrl, result.requestId, at, tasks));
      });

      // A search: a referral this key may not read is an empty result, as one that does not exist.
      api.get('/Task', CHECKS_OWN_TEXT, async (request, reply) => {
        const key = await requireApiKey(ctx, request, ['referrals:write', 'acknowledgements:write']);
        const id = focusOf(request.query);
        const referral = await findReferral(ctx.db.kysely, id);
        const visible = referral && (await keyMayRead(ctx, key, referral));
        const tasks = visible ? tasksOf(await statusDocument(ctx, referral)) : [];
        return reply.type(FHIR_JSON).send(searchset(baseUrl, request.url, tasks));
      });
    },
    { prefix: FHIR_BASE },
  );
}
