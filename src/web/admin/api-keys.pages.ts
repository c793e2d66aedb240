import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_SCOPES, createApiKey, listApiKeys, revokeApiKey } from '../../access/apikey.service.ts';
import type { RelayContext } from '../../context.ts';
import { actorOf, adminForm, errorList, formField, noStore, submitForm, type FieldErrors } from './forms.ts';
import { currentDirectory, teamExistsIn, teamItems } from './teams.ts';
import { registerConfirmedAction } from './confirm.ts';
import { RelayError } from '../../errors.ts';

const SCOPE_TEXT: Record<(typeof API_SCOPES)[number], string> = {
  'referrals:write': 'referrals:write – a source system (ePCR) raises referrals',
  'acknowledgements:write': 'acknowledgements:write – one team’s system acknowledges its referrals',
  'escalations:write': 'escalations:write – the safeguarding team’s tooling works escalations',
};

const FIELD_OF_PATH: Record<string, string> = {
  name: 'name',
  scope: 'scope',
  team: 'team',
  system: 'system',
};

interface KeyForm {
  name: string;
  scope: string;
  team: string;
  system: string;
}

async function newKeyPage(reply: FastifyReply, ctx: RelayContext, form: KeyForm, errors: FieldErrors = {}) {
  const { directory } = await currentDirectory(ctx);
  return reply.page('admin/api-key-new.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Create an API key`,
    form,
    errors,
    errorList: errorList(errors),
    scopeItems: [
      { value: '', text: 'Choose a scope', selected: form.scope === '' },
      ...API_SCOPES.map((scope) => ({
        value: scope,
        text: SCOPE_TEXT[scope],
        selected: scope === form.scope,
      })),
    ],
    teamItems: teamItems(directory, form.team, 'No team'),
  });
}

/** Creates the key and shows it once; a form with problems comes back with them beside the fields. */
async function addKey(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const form: KeyForm = {
    name: formField(request.body, 'name'),
    scope: formField(request.body, 'scope'),
    team: formField(request.body, 'team'),
    system: formField(request.body, 'system'),
  };
  const { directory } = await currentDirectory(ctx);
  const exists = teamExistsIn(directory);
  const input = {
    name: form.name,
    scope: form.scope,
    ...(form.team ? { teamId: form.team } : {}),
    ...(form.system ? { sourceSystem: form.system } : {}),
  };
  return submitForm(
    reply,
    () => createApiKey(ctx.db.kysely, ctx.clock, input, actorOf(request), async (id) => exists(id)),
    FIELD_OF_PATH,
    {
      done: (created) =>
        noStore(reply).page('admin/api-key-created.njk', {
          pageTitle: 'API key created',
          apiKey: created.apiKey,
          key: created.key,
        }),
      again: (reply422, errors) => newKeyPage(reply422, ctx, form, errors),
    },
  );
}

export function registerApiKeyPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/admin/api-keys', async (_request, reply) =>
    reply.page('admin/api-keys.njk', { pageTitle: 'API keys', keys: await listApiKeys(ctx.db.kysely) }),
  );

  app.get('/admin/api-keys/new', async (_request, reply) =>
    newKeyPage(reply, ctx, { name: '', scope: '', team: '', system: '' }),
  );

  app.post('/admin/api-keys', adminForm(app), async (request, reply) => addKey(ctx, request, reply));

  registerConfirmedAction(app, {
    path: '/admin/api-keys/:id/revoke',
    done: '/admin/api-keys',
    async describe(id) {
      const key = (await listApiKeys(ctx.db.kysely)).find((k) => k.id === id && !k.revokedAt);
      if (!key) throw new RelayError('not-found', 'No active API key with that id');
      return {
        title: `Revoke the API key ${key.name}`,
        consequence: `Every request with this key is refused from now on. ${REVOKE_CONSEQUENCE[key.scope] ?? ''}`,
        button: 'Revoke key',
        cancelHref: '/admin/api-keys',
      };
    },
    act: async (request, id, reason) => {
      await revokeApiKey(ctx.db.kysely, ctx.clock, id, actorOf(request), reason);
      ctx.apiKeys.forget();
    },
  });
}

/** What stops when a key of each scope is revoked, so the admin knows who to call first. */
const REVOKE_CONSEQUENCE: Record<string, string> = {
  'referrals:write':
    'The source system it belongs to can no longer raise referrals until it is given a new key.',
  'acknowledgements:write': 'Its team’s system can no longer acknowledge referrals through the API.',
  'escalations:write': 'The tooling that uses it can no longer work escalations.',
};
