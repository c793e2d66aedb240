import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { createUser } from '../../src/access/user.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { signIn, type Browser } from '../helpers/web.ts';

describeEachDialect("acknowledging through the API with a recipient's session", (dialect) => {
  let relay: TestRelay;
  const password = 'a long recipient password';
  before(async () => {
    relay = await createTestRelay(dialect);
    const anyTeam = () => true;
    const db = relay.ctx.db.kysely;
    await createUser(
      db,
      relay.clock,
      {
        email: 'sam@example.org',
        name: 'Sam Okafor',
        roles: ['recipient'],
        teams: ['birmingham-adults'],
        password,
      },
      'test',
      anyTeam,
    );
    await createUser(
      db,
      relay.clock,
      {
        email: 'cov@example.org',
        name: 'Cal Coventry',
        roles: ['recipient'],
        teams: ['coventry-adults'],
        password,
      },
      'test',
      anyTeam,
    );
    await createUser(
      db,
      relay.clock,
      { email: 'crew@example.org', name: 'Pat Crew', roles: ['crew'], password },
      'test',
      anyTeam,
    );
  });
  after(async () => relay.close());

  const signedIn = (email: string) => signIn(relay.app, email, { password });

  it('acknowledges for the recipient’s own team, as them, once', async () => {
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({ source: { system: 'test-epcr', reference: 'SESSION-1' } }),
    });
    const id = raised.json().id as string;
    const ack = (browser: Browser) =>
      relay.app.inject({
        method: 'POST',
        url: `/api/v1/referrals/${id}/acknowledgements`,
        headers: {
          cookie: `relay_session=${browser.cookie('relay_session')}`,
          'content-type': 'application/json',
          origin: 'http://relay.test',
        },
        payload: '{}',
      });
    const coventry = await ack(await signedIn('cov@example.org'));
    assert.equal(coventry.statusCode, 404, 'another team cannot acknowledge it');
    const crew = await ack(await signedIn('crew@example.org'));
    assert.equal(crew.statusCode, 401);
    const sam = await signedIn('sam@example.org');
    const first = await ack(sam);
    assert.equal(first.statusCode, 201);
    assert.equal(first.json().by, 'Sam Okafor');
    assert.equal(first.json().method, 'inbox');
    assert.equal((await ack(sam)).statusCode, 200);
    const none = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/referrals/${id}/acknowledgements`,
      payload: {},
    });
    assert.equal(none.statusCode, 401);
  });

  it('refuses a session-authenticated change from another site, or without a JSON body, and changes nothing', async () => {
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({ source: { system: 'test-epcr', reference: 'SESSION-CSRF' } }),
    });
    const id = raised.json().id as string;
    const cookie = `relay_session=${(await signedIn('sam@example.org')).cookie('relay_session')}`;
    const url = `/api/v1/referrals/${id}/acknowledgements`;
    const attempts = [
      { what: 'no body, another site', headers: { cookie, origin: 'https://evil.example' }, status: 403 },
      { what: 'no body, no Origin', headers: { cookie }, status: 403 },
      {
        what: 'a form body from another site',
        headers: { cookie, origin: 'https://evil.example', 'content-type': 'text/plain' },
        payload: '{}',
        status: 415,
      },
      {
        what: 'JSON from another site',
        headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
        payload: '{}',
        status: 403,
      },
      {
        what: 'no body from Relay’s own origin',
        headers: { cookie, origin: 'http://relay.test' },
        status: 415,
      },
    ];
    for (const attempt of attempts) {
      const response = await relay.app.inject({ method: 'POST', url, ...attempt });
      assert.equal(response.statusCode, attempt.status, attempt.what);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/, attempt.what);
    }
    const acks = await relay.ctx.db.kysely
      .selectFrom('acknowledgements')
      .select('id')
      .where('referral_id', '=', id)
      .execute();
    assert.equal(acks.length, 0, 'nothing was acknowledged');
    const own = await relay.app.inject({
      method: 'POST',
      url,
      headers: { cookie, origin: 'http://relay.test', 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(own.statusCode, 201, 'JSON from Relay’s own pages still works');
  });
});
