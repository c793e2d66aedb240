import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../../src/access/user.service.ts';
import { unlinkIdentities } from '../../src/access/identity.service.ts';
import { MINUTE } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { oidcBrowser } from '../helpers/oidc-browser.ts';
import { rsaJwkPair, startTestProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const RELAY = 'http://relay.test';
const SECRET = 'a-client-secret-for-the-basic-client';
const clientKey = rsaJwkPair('relay-client-key');
const callbacks = (name: string) => ({
  redirectUris: [`${RELAY}/sign-in/oidc/${name}/callback`],
  postLogoutRedirectUris: [`${RELAY}/sign-in`],
});

describe('signing in with an OpenID provider', () => {
  let op: TestProvider;
  before(async () => {
    op = await startTestProvider([
      { clientId: 'relay-basic', secret: SECRET, ...callbacks('basic') },
      { clientId: 'relay-jwt', publicJwk: clientKey.publicJwk, ...callbacks('jwt') },
    ]);
  });
  after(async () => op.close());

  describeEachDialect('signing in with the provider', (dialect) => {
    let relay: TestRelay;
    const db = () => relay.ctx.db.kysely;
    const rows = async (table: 'identity_links' | 'sessions') => db().selectFrom(table).selectAll().execute();
    const audit = async (action: string) =>
      db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('seq').execute();
    const person = async (
      id: string,
      email: string,
      roles: string[],
      account: Record<string, unknown> = {},
    ) => {
      op.accounts.set(id, { email, email_verified: true, name: id, ...account });
      const { user } = await createUser(db(), relay.clock, { email, name: id, roles }, 'test', () => true);
      return user;
    };

    before(async () => {
      // The provider signs ID tokens with real time; Relay's clock starts there too.
      relay = await createTestRelay(dialect, {
        now: new Date().toISOString(),
        env: {
          OIDC_PROVIDERS: 'basic,jwt',
          OIDC_BASIC_ISSUER: op.issuer,
          OIDC_BASIC_CLIENT_ID: 'relay-basic',
          OIDC_BASIC_CLIENT_SECRET: SECRET,
          OIDC_BASIC_LABEL: 'Sign in with Test Trust',
          OIDC_JWT_ISSUER: op.issuer,
          OIDC_JWT_CLIENT_ID: 'relay-jwt',
          OIDC_JWT_CLIENT_KEY: clientKey.pem,
          OIDC_JWT_CLIENT_KEY_ID: 'relay-client-key',
          OIDC_REQUIRE_MFA: 'on',
          LOCAL_SIGN_IN: 'off',
          SESSION_MAX_AGE: '20m',
        },
      });
    });
    after(async () => relay.close());

    it('offers the providers and no password form when local sign-in is off, and refuses a password', async () => {
      const browser = oidcBrowser(relay.app, RELAY);
      const page = await browser.relay.get('/sign-in?next=/crew');
      assert.match(page.body, /href="\/sign-in\/oidc\/basic\?next=%2Fcrew"[^>]*>\s*Sign in with Test Trust/);
      assert.match(page.body, /href="\/sign-in\/oidc\/jwt\?next=%2Fcrew"/);
      assert.doesNotMatch(page.body, /type="password"/);
      const refused = await browser.relay.post('/sign-in', {
        email: 'a@example.org',
        password: 'x'.repeat(20),
      });
      assert.equal(refused.statusCode, 403);
    });

    it('publishes the public half of the private_key_jwt key for the provider to fetch', async () => {
      const response = await relay.app.inject({ method: 'GET', url: '/oidc/jwks.json' });
      assert.equal(response.statusCode, 200);
      const { keys } = response.json() as { keys: Record<string, string>[] };
      assert.equal(keys.length, 1);
      assert.equal(keys[0]!.kid, 'relay-client-key');
      assert.equal(keys[0]!.n, clientKey.publicJwk.n);
      assert.equal(keys[0]!.d, undefined, 'never the private key');
    });

    for (const [first, second] of [
      ['basic', 'jwt'],
      ['jwt', 'basic'],
    ] as const) {
      it(`links the first sign-in (${first}) by verified email, and the next (${second}) by subject alone`, async () => {
        const id = `crew-${first}-${dialect}`;
        const user = await person(id, `${id}@trust.example`, ['crew']);
        op.login = { accountId: id };
        const browser = oidcBrowser(relay.app, RELAY);
        const landed = await browser.signIn(first, '/crew?draft=1');
        assert.equal(landed.statusCode, 303);
        assert.equal(landed.headers.location, '/crew?draft=1');
        const links = (await rows('identity_links')).filter((l) => l.user_id === user.id);
        assert.deepEqual(
          links.map((l) => [l.issuer, l.subject]),
          [[op.issuer, id]],
        );
        const session = (await rows('sessions')).find((s) => s.user_id === user.id);
        assert.equal(session?.provider, first);
        const linked = await audit('user.identity-linked');
        assert.ok(linked.some((a) => a.entity_id === user.id));

        // The provider's email changes (a new name, a new domain): the subject still says who it is.
        op.accounts.set(id, { email: `renamed-${id}@elsewhere.example`, email_verified: true });
        const again = oidcBrowser(relay.app, RELAY);
        const back = await again.signIn(second, '/');
        assert.equal(back.statusCode, 303);
        assert.ok(again.relay.cookie('relay_session'));
        assert.equal((await rows('identity_links')).filter((l) => l.user_id === user.id).length, 1);
        const signedIn = (await audit('user.signed-in')).filter((a) => a.entity_id === user.id);
        assert.deepEqual(
          signedIn.map((a) => (JSON.parse(String(a.detail)) as { provider: string }).provider),
          [first, second],
        );
      });
    }

    it('tells an unknown person to ask their administrator, audits it and writes nothing else', async () => {
      op.accounts.set('stranger', { email: 'stranger@nowhere.example', email_verified: true });
      op.login = { accountId: 'stranger' };
      const before = {
        links: (await rows('identity_links')).length,
        sessions: (await rows('sessions')).length,
      };
      const browser = oidcBrowser(relay.app, RELAY);
      const page = await browser.signIn('basic');
      assert.equal(page.statusCode, 403);
      assert.match(page.body, /Ask your Relay administrator for access/);
      assert.equal(browser.relay.cookie('relay_session'), undefined);
      assert.deepEqual(
        { links: (await rows('identity_links')).length, sessions: (await rows('sessions')).length },
        before,
      );
      const refused = await audit('user.sign-in-refused');
      const last = refused.at(-1)!;
      assert.equal(last.entity_type, 'identity');
      assert.doesNotMatch(JSON.stringify(last), /stranger/, 'neither the subject nor the email is audited');
    });

    it("does not link by an email the provider has not verified (email_verified, or Entra ID's xms_edov)", async () => {
      const id = `unverified-${dialect}`;
      await person(id, `${id}@trust.example`, ['crew'], { email_verified: false });
      op.login = { accountId: id };
      const page = await oidcBrowser(relay.app, RELAY).signIn('basic');
      assert.equal(page.statusCode, 403);
      assert.match(page.body, /You do not have access to Relay yet/);
      // Entra ID's way of saying so: the email's domain is verified as the tenant's own.
      op.accounts.set(id, { email: `${id}@trust.example`, xms_edov: true });
      assert.equal((await oidcBrowser(relay.app, RELAY).signIn('basic')).statusCode, 303);
    });

    describe('refuses a sign-in that does not check out, with a clear page and only an audit entry', () => {
      const refusedCleanly = async (browser: ReturnType<typeof oidcBrowser>, callbackUrl: string) => {
        const before = {
          links: (await rows('identity_links')).length,
          sessions: (await rows('sessions')).length,
          failures: (await audit('user.sign-in-failed')).length,
        };
        const page = await browser.callback(callbackUrl);
        assert.equal(page.statusCode, 400);
        assert.match(page.body, /We could not sign you in/);
        assert.equal(browser.relay.cookie('relay_session'), undefined);
        assert.equal((await rows('identity_links')).length, before.links);
        assert.equal((await rows('sessions')).length, before.sessions);
        const failures = await audit('user.sign-in-failed');
        assert.equal(failures.length, before.failures + 1);
        return JSON.parse(String(failures.at(-1)!.detail)) as { reason: string };
      };
      let id: string;
      before(async () => {
        id = `checked-${dialect}`;
        await person(id, `${id}@trust.example`, ['crew']);
      });

      it('a forged state', async () => {
        op.login = { accountId: id };
        const browser = oidcBrowser(relay.app, RELAY);
        const url = new URL(await browser.startSignIn('basic'));
        url.searchParams.set('state', 'forged-by-someone-else');
        assert.equal((await refusedCleanly(browser, url.href)).reason, 'state');
      });

      it('a replayed state, after it was used', async () => {
        op.login = { accountId: id };
        const browser = oidcBrowser(relay.app, RELAY);
        const url = await browser.startSignIn('basic');
        const state = new URL(url).searchParams.get('state')!;
        assert.equal((await browser.callback(url)).statusCode, 303);
        const replay = oidcBrowser(relay.app, RELAY);
        await replay.relay.get('/sign-in');
        // The replayer even holds the state cookie the first browser had.
        replay.provider.cookies.clear();
        const page = await relay.app.inject({
          method: 'GET',
          url: url.slice(RELAY.length),
          headers: { cookie: `relay_oidc_state=${state}` },
        });
        assert.equal(page.statusCode, 400);
        assert.match(page.body, /We could not sign you in/);
      });

      it('a callback in a browser that did not start the sign-in', async () => {
        op.login = { accountId: id };
        const url = await oidcBrowser(relay.app, RELAY).startSignIn('basic');
        assert.equal((await refusedCleanly(oidcBrowser(relay.app, RELAY), url)).reason, 'state');
      });

      it('a wrong nonce', async () => {
        op.login = { accountId: id };
        const browser = oidcBrowser(relay.app, RELAY);
        const url = await browser.startSignIn('jwt');
        await db().updateTable('oidc_sign_ins').set({ nonce: 'not-the-nonce-sent' }).execute();
        await refusedCleanly(browser, url);
      });

      const tampered: [
        string,
        (c: Record<string, unknown>) => Record<string, unknown>,
        ('stranger' | undefined)?,
      ][] = [
        ['an expired ID token', (c) => ({ ...c, iat: Number(c.iat) - 7200, exp: Number(c.iat) - 3600 })],
        ['an ID token signed with another key', (c) => c, 'stranger'],
        ['an ID token from another issuer', (c) => ({ ...c, iss: 'https://impostor.example' })],
        ['an ID token for another client', (c) => ({ ...c, aud: 'someone-else' })],
      ];
      for (const [what, change, signWith] of tampered) {
        it(what, async () => {
          op.login = { accountId: id };
          const browser = oidcBrowser(relay.app, RELAY);
          const url = await browser.startSignIn('basic');
          op.tamperNextIdToken((claims) => ({ claims: change(claims), signWith }));
          await refusedCleanly(browser, url);
        });
      }
    });

    it('needs a second factor for the safeguarding, admin and auditor roles, not for crew', async () => {
      const lead = `lead-${dialect}`;
      await person(lead, `${lead}@trust.example`, ['safeguarding']);
      op.login = { accountId: lead, amr: ['pwd'] };
      const without = await oidcBrowser(relay.app, RELAY).signIn('basic');
      assert.equal(without.statusCode, 403);
      assert.match(without.body, /second factor/);
      assert.equal((await rows('identity_links')).filter((l) => l.subject === lead).length, 0);
      const refusal = (await audit('user.sign-in-refused')).at(-1)!;
      assert.equal((JSON.parse(String(refusal.detail)) as { reason: string }).reason, 'mfa-required');

      op.login = { accountId: lead, amr: ['pwd', 'mfa'] };
      const withMfa = await oidcBrowser(relay.app, RELAY).signIn('basic');
      assert.equal(withMfa.statusCode, 303);

      const crew = `crew-nomfa-${dialect}`;
      await person(crew, `${crew}@trust.example`, ['crew']);
      op.login = { accountId: crew, amr: ['pwd'] };
      assert.equal((await oidcBrowser(relay.app, RELAY).signIn('basic')).statusCode, 303);
    });

    it('ends a session at SESSION_MAX_AGE however busy, and at once when the account is disabled or unlinked', async () => {
      const id = `sessions-${dialect}`;
      const user = await person(id, `${id}@trust.example`, ['crew']);
      op.login = { accountId: id };
      const browser = oidcBrowser(relay.app, RELAY);
      await browser.signIn('basic');
      const signedIn = async () => (await browser.relay.get('/crew/referrals/new')).statusCode === 200;
      assert.ok(await signedIn());
      relay.clock.advance(15 * MINUTE);
      assert.ok(await signedIn(), 'busy within SESSION_MAX_AGE');
      relay.clock.advance(6 * MINUTE);
      assert.equal(await signedIn(), false, 'past SESSION_MAX_AGE (20m) though never idle');

      await browser.signIn('basic');
      assert.ok(await signedIn());
      await db()
        .updateTable('users')
        .set({ disabled_at: relay.clock.now().toISOString() })
        .where('id', '=', user.id)
        .execute();
      assert.equal(await signedIn(), false);
      assert.equal((await rows('sessions')).filter((s) => s.user_id === user.id).length, 0);
      await db().updateTable('users').set({ disabled_at: null }).where('id', '=', user.id).execute();

      await browser.signIn('basic');
      assert.ok(await signedIn());
      await unlinkIdentities(db(), relay.clock, user.id, 'test');
      assert.equal(await signedIn(), false);
      assert.equal((await audit('user.identity-unlinked')).at(-1)?.entity_id, user.id);
    });

    it('signs out at Relay and at the provider', async () => {
      const id = `leaver-${dialect}`;
      const user = await person(id, `${id}@trust.example`, ['crew']);
      op.login = { accountId: id };
      const browser = oidcBrowser(relay.app, RELAY);
      await browser.signIn('jwt');
      await browser.relay.get('/crew/referrals/new');
      const out = await browser.relay.post('/sign-out', {});
      assert.equal(out.statusCode, 303);
      const endSession = new URL(String(out.headers.location));
      assert.equal(endSession.origin, op.issuer);
      assert.ok(endSession.searchParams.get('id_token_hint'));
      assert.equal((await rows('sessions')).filter((s) => s.user_id === user.id).length, 0);
      const back = await browser.signOutAtProvider(endSession.href);
      assert.equal(back, `${RELAY}/sign-in`);
      assert.ok((await audit('user.signed-out')).some((a) => a.entity_id === user.id));
      // The provider's session is gone too: signing in again goes through its login interaction.
      op.login = { accountId: id };
      const callback = await browser.startSignIn('jwt');
      assert.ok(callback.startsWith(`${RELAY}/sign-in/oidc/jwt/callback`));
    });
  });
});
