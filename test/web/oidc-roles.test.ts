import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../../src/access/user.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { oidcBrowser } from '../helpers/oidc-browser.ts';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const RELAY = 'http://relay.test';
const callbacks = (name: string) => ({
  redirectUris: [`${RELAY}/sign-in/oidc/${name}/callback`],
  postLogoutRedirectUris: [`${RELAY}/sign-in`],
});

describe("roles from the provider's groups claim (OIDC_<P>_ROLES_CLAIM, OIDC_<P>_ROLE_MAP)", () => {
  let op: TestProvider;
  before(async () => {
    op = await startTestProvider([
      { clientId: 'relay-mapped', secret: 'secret-of-the-mapped-client', ...callbacks('mapped') },
      { clientId: 'relay-plain', secret: 'secret-of-the-plain-client', ...callbacks('plain') },
    ]);
  });
  after(async () => op.close());

  describeEachDialect('signing in', (dialect) => {
    let relay: TestRelay;
    const db = () => relay.ctx.db.kysely;
    const rolesOf = async (id: string) =>
      JSON.parse(
        (await db().selectFrom('users').select('roles').where('id', '=', id).executeTakeFirstOrThrow()).roles,
      ) as string[];
    const audit = async (userId: string, action: string) =>
      db()
        .selectFrom('audit_log')
        .select(['actor', 'detail'])
        .where('entity_id', '=', userId)
        .where('action', '=', action)
        .orderBy('seq')
        .execute();
    const person = async (id: string, roles: string[], groups: string[]) => {
      op.accounts.set(id, { email: `${id}@council.example`, email_verified: true, name: id, groups });
      const { user } = await createUser(
        db(),
        relay.clock,
        { email: `${id}@council.example`, name: id, roles },
        'test',
        () => true,
      );
      return user;
    };
    const signIn = async (id: string, provider: string) => {
      op.login = { accountId: id };
      const browser = oidcBrowser(relay.app, RELAY);
      return { browser, landed: await browser.signIn(provider, '/') };
    };

    before(async () => {
      relay = await createTestRelay(dialect, {
        now: new Date().toISOString(),
        env: {
          OIDC_PROVIDERS: 'mapped,plain',
          OIDC_MAPPED_ISSUER: op.issuer,
          OIDC_MAPPED_CLIENT_ID: 'relay-mapped',
          OIDC_MAPPED_CLIENT_SECRET: 'secret-of-the-mapped-client',
          OIDC_MAPPED_SCOPES: 'openid email groups',
          OIDC_MAPPED_ROLES_CLAIM: 'groups',
          OIDC_MAPPED_ROLE_MAP: 'sg-leads=safeguarding, relay-admins=admin, sg-leads=auditor',
          OIDC_PLAIN_ISSUER: op.issuer,
          OIDC_PLAIN_CLIENT_ID: 'relay-plain',
          OIDC_PLAIN_CLIENT_SECRET: 'secret-of-the-plain-client',
          OIDC_PLAIN_SCOPES: 'openid email groups',
        },
      });
    });
    after(async () => relay.close());

    it('sets the roles from the claim at each sign-in, audited when they change', async () => {
      const user = await person(`lead-${dialect}`, ['crew'], ['sg-leads', 'unrelated']);
      const first = await signIn(`lead-${dialect}`, 'mapped');
      assert.equal(first.landed.statusCode, 303);
      assert.ok(first.browser.relay.cookie('relay_session'));
      assert.deepEqual(await rolesOf(user.id), ['safeguarding', 'auditor']);
      assert.equal(
        (await first.browser.relay.get('/safeguarding')).statusCode,
        200,
        'the new role opens its pages',
      );

      op.accounts.set(`lead-${dialect}`, {
        email: `lead-${dialect}@council.example`,
        email_verified: true,
        groups: ['relay-admins'],
      });
      await signIn(`lead-${dialect}`, 'mapped');
      assert.deepEqual(await rolesOf(user.id), ['admin']);
      await signIn(`lead-${dialect}`, 'mapped');
      const changes = await audit(user.id, 'user.access-changed');
      assert.deepEqual(
        changes.map((c) => [c.actor, JSON.parse(c.detail ?? '{}') as unknown]),
        [
          [
            'oidc:mapped',
            {
              roles: { from: ['crew'], to: ['safeguarding', 'auditor'] },
              by: 'roles-claim',
              provider: 'mapped',
            },
          ],
          [
            'oidc:mapped',
            {
              roles: { from: ['safeguarding', 'auditor'], to: ['admin'] },
              by: 'roles-claim',
              provider: 'mapped',
            },
          ],
        ],
        'audited when they change, and only then',
      );
    });

    it('refuses a person whose groups map to no role, as an unknown person, and changes nothing', async () => {
      const user = await person(`outsider-${dialect}`, ['auditor'], ['finance']);
      const { browser, landed } = await signIn(`outsider-${dialect}`, 'mapped');
      assert.equal(landed.statusCode, 403);
      assert.match(landed.body, /Ask your Relay administrator for access/);
      assert.equal(browser.relay.cookie('relay_session'), undefined);
      assert.deepEqual(await rolesOf(user.id), ['auditor']);
      const refused = await audit(user.id, 'user.sign-in-refused');
      assert.deepEqual(JSON.parse(refused.at(-1)?.detail ?? '{}'), { provider: 'mapped', reason: 'no-role' });
    });

    it('leaves the roles to Relay where the provider has no map', async () => {
      const user = await person(`plain-${dialect}`, ['crew'], ['relay-admins']);
      const { landed } = await signIn(`plain-${dialect}`, 'plain');
      assert.equal(landed.statusCode, 303);
      assert.deepEqual(await rolesOf(user.id), ['crew']);
      assert.deepEqual(await audit(user.id, 'user.access-changed'), []);
    });
  });
});
