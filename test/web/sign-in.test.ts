import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { FREE_FAILURES } from '../../src/access/sign-in.throttle.ts';
import { createUser } from '../../src/access/user.service.ts';
import { SESSION_IDLE_MS } from '../../src/access/session.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

describeEachDialect('signing in', (dialect) => {
  let relay: TestRelay;
  const password = 'correct horse battery staple';
  before(async () => {
    relay = await createTestRelay(dialect);
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email: 'Crew@Example.org', name: 'Pat Crew', roles: ['crew'], password },
      'test',
      () => true,
    );
  });
  after(async () => relay.close());

  it('signs in with the right password, keeps a server-side session, and signs out', async () => {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const signedIn = await browser.post('/sign-in', {
      email: 'crew@example.org',
      password,
      next: '/x?y=1',
    });
    assert.equal(signedIn.statusCode, 303);
    assert.equal(signedIn.headers.location, '/x?y=1');
    const cookie = browser.cookie('relay_session');
    assert.ok(cookie && cookie.length > 30);
    const stored = await relay.ctx.db.kysely.selectFrom('sessions').selectAll().execute();
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]!.id_hash, cookie, 'only a hash of the session id is stored');
    const audit = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'user.%')
      .execute();
    assert.ok(audit.some((a) => a.action === 'user.signed-in'));
    await browser.get('/sign-in');
    const out = await browser.post('/sign-out', {});
    assert.equal(out.statusCode, 303);
    assert.equal((await relay.ctx.db.kysely.selectFrom('sessions').selectAll().execute()).length, 0);
  });

  it('refuses a form without its CSRF token and changes nothing', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/sign-in',
      payload: { email: 'crew@example.org', password },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(response.statusCode, 403);
    assert.match(response.headers['content-type'] as string, /text\/html/);
  });

  it('shows errors beside the fields, in the NHS error style', async () => {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const response = await browser.post('/sign-in', { email: '', password: '' });
    assert.equal(response.statusCode, 422);
    assert.match(response.body, /nhsuk-error-summary/);
    assert.match(response.body, /id="email--error-message"|nhsuk-error-message/);
    assert.match(response.body, /Enter your email address/);
    assert.match(response.body, /Enter your password/);
  });

  it('makes this client wait after repeated wrong passwords, even for the right one, until the wait ends', async () => {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    for (let i = 0; i < FREE_FAILURES - 1; i += 1) {
      const wrong = await browser.post('/sign-in', { email: 'crew@example.org', password: `wrong ${i}` });
      assert.equal(wrong.statusCode, 422);
      assert.match(wrong.body, /email address or password is wrong/);
    }
    const locking = await browser.post('/sign-in', { email: 'crew@example.org', password: 'wrong again' });
    assert.equal(locking.statusCode, 429);
    const right = await browser.post('/sign-in', { email: 'crew@example.org', password });
    assert.equal(right.statusCode, 429, 'locked even with the right password');
    relay.clock.advance(60_000 + 1);
    const later = await browser.post('/sign-in', { email: 'crew@example.org', password });
    assert.equal(later.statusCode, 303);
  });

  it('ends a session left idle', async () => {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    await browser.post('/sign-in', { email: 'crew@example.org', password });
    const { resolveSession } = await import('../../src/access/session.service.ts');
    const token = browser.cookie('relay_session')!;
    assert.ok(await resolveSession(relay.ctx.db.kysely, relay.clock, token));
    relay.clock.advance(SESSION_IDLE_MS + 1);
    assert.equal(await resolveSession(relay.ctx.db.kysely, relay.clock, token), undefined);
  });
});
