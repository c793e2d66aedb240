import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createUser } from '../../src/access/user.service.ts';
import { DIALECTS } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

/** Issue 14, finding 2: sign-in throttling, no account enumeration, the password policy and resets. */
const PASSWORD = 'a long and unusual passphrase';
const REAL_USER = '10.0.0.7';
const STRANGER = '203.0.113.66';

/** The message beside the email field, or the summary's first message. */
function emailError(response: LightMyRequestResponse): string {
  const match = /id="email--error-message"[^>]*>\s*<span[^>]*>[^<]*<\/span>([^<]*)</.exec(response.body);
  return (match?.[1] ?? /nhsuk-error-summary__list[\s\S]*?<a[^>]*>([^<]*)</.exec(response.body)?.[1] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

for (const dialect of DIALECTS) {
  describe(`sign-in security [${dialect}]`, () => {
    let relay: TestRelay;
    let adminId = '';

    before(async () => {
      relay = await createTestRelay(dialect, { env: { SIGN_IN_RATE_LIMIT: '1000' } });
      const add = async (email: string, roles: string[]) =>
        (
          await createUser(
            relay.ctx.db.kysely,
            relay.clock,
            { email, roles, password: PASSWORD },
            'test',
            () => true,
          )
        ).user;
      await add('crew@example.org', ['crew']);
      await add('lead@example.org', ['safeguarding']);
      await add('reset.me@example.org', ['crew']);
      adminId = (await add('admin@example.org', ['admin'])).id;
      const disabled = await add('gone@example.org', ['crew']);
      await relay.ctx.db.kysely
        .updateTable('users')
        .set({ disabled_at: '2026-11-01T00:00:00.000Z' })
        .where('id', '=', disabled.id)
        .execute();
    });
    after(async () => relay.close());

    async function attempt(from: string, email: string, password: string) {
      const browser = formSession(relay.app, { remoteAddress: from });
      await browser.get('/sign-in');
      return browser.post('/sign-in', { email, password });
    }

    it('gives the same answer for an unknown email, a wrong password and a disabled account', async () => {
      const answers = [];
      for (const [email, password] of [
        ['nobody@example.org', PASSWORD],
        ['crew@example.org', 'not the password at all'],
        ['gone@example.org', PASSWORD],
      ] as const) {
        const response = await attempt('198.51.100.1', email, password);
        answers.push({ status: response.statusCode, error: emailError(response) });
      }
      assert.deepEqual(answers, [
        { status: 422, error: 'The email address or password is wrong' },
        { status: 422, error: 'The email address or password is wrong' },
        { status: 422, error: 'The email address or password is wrong' },
      ]);
    });

    it('makes a known and an unknown account wait alike, with Retry-After', async () => {
      const waits = [];
      for (const email of ['nobody.else@example.org', 'lead@example.org']) {
        let last: LightMyRequestResponse | undefined;
        for (let i = 0; i < 5; i += 1) last = await attempt('198.51.100.2', email, `wrong guess ${i}`);
        waits.push({
          status: last?.statusCode,
          retryAfter: last?.headers['retry-after'],
          error: emailError(last!),
        });
      }
      assert.deepEqual(waits[0], waits[1], 'nothing tells a real account from an unknown one');
      assert.deepEqual(waits[0], {
        status: 429,
        retryAfter: '60',
        error: 'Too many wrong passwords for this email address from here. Try again in 1 minute.',
      });
    });

    it('never lets a stranger lock a real person out, and backs off the stranger', async () => {
      for (let i = 0; i < 5; i += 1) await attempt(STRANGER, 'crew@example.org', `guess ${i}`);
      const strangerRight = await attempt(STRANGER, 'crew@example.org', PASSWORD);
      assert.equal(strangerRight.statusCode, 429, 'the stranger waits, even with the right password');
      const real = await attempt(REAL_USER, 'crew@example.org', PASSWORD);
      assert.equal(real.statusCode, 303, 'the real person, from their own machine, signs in');

      relay.clock.advance(60_000 + 1);
      const again = await attempt(STRANGER, 'crew@example.org', 'guess again');
      assert.equal(again.statusCode, 429);
      assert.equal(again.headers['retry-after'], '120', 'each failure after the wait doubles it');
      relay.clock.advance(120_000 + 1);
      assert.equal((await attempt(STRANGER, 'crew@example.org', PASSWORD)).statusCode, 303);
      const left = await relay.ctx.db.kysely.selectFrom('sign_in_throttles').selectAll().execute();
      assert.ok(
        left.every((row) => !JSON.stringify(row).includes('@') && !JSON.stringify(row).includes(STRANGER)),
        'the table holds neither emails nor addresses',
      );
    });

    it('refuses short and common passwords', async () => {
      for (const [password, message] of [
        ['short one', 'Use at least 12 characters'],
        ['Password1234', 'This password is too common'],
        ['qwertyuiop123', 'This password is too common'],
        ['aaaaaaaaaaaaaaaa', 'Use more than one or two different characters'],
      ] as const) {
        await assert.rejects(
          createUser(
            relay.ctx.db.kysely,
            relay.clock,
            { email: 'weak@example.org', roles: ['crew'], password },
            'test',
            () => true,
          ),
          (error: { errors?: { path: string; message: string }[] }) =>
            error.errors?.some((e) => e.path === 'password' && e.message.startsWith(message)) === true,
          password,
        );
      }
    });

    it('an admin reset forces a new password at the next sign-in', async () => {
      const person = formSession(relay.app, { remoteAddress: '192.0.2.10' });
      await person.get('/sign-in');
      assert.equal(
        (await person.post('/sign-in', { email: 'reset.me@example.org', password: PASSWORD })).statusCode,
        303,
      );

      const admin = formSession(relay.app, { remoteAddress: '192.0.2.11' });
      await admin.get('/sign-in');
      assert.equal(
        (await admin.post('/sign-in', { email: 'admin@example.org', password: PASSWORD })).statusCode,
        303,
      );
      const users = await admin.get('/admin/users');
      const id = new RegExp(`/admin/users/([\\w-]+)/reset-password`).exec(
        users.body.slice(users.body.indexOf('reset.me@example.org')),
      )?.[1];
      assert.ok(id, 'the user list offers a reset');
      await admin.get(`/admin/users/${id}/reset-password`);
      const reset = await admin.post(`/admin/users/${id}/reset-password`, { reason: 'Forgotten' });
      assert.equal(reset.statusCode, 200);
      assert.equal(reset.headers['cache-control'], 'no-store');
      const temporary = /<code id="password"[^>]*>([^<]+)<\/code>/.exec(reset.body)?.[1];
      assert.ok(temporary, 'the temporary password is shown once');

      assert.equal((await person.get('/crew/referrals')).statusCode, 303, 'the old session has ended');
      await person.get('/sign-in');
      assert.equal(
        (await person.post('/sign-in', { email: 'reset.me@example.org', password: PASSWORD })).statusCode,
        422,
      );
      await person.get('/sign-in');
      const signedIn = await person.post('/sign-in', { email: 'reset.me@example.org', password: temporary });
      assert.equal(signedIn.statusCode, 303);
      assert.equal(signedIn.headers.location, '/account/password');
      const elsewhere = await person.get('/crew/referrals');
      assert.equal(elsewhere.statusCode, 303);
      assert.equal(elsewhere.headers.location, '/account/password', 'every page leads to the change');
      const form = await person.get('/account/password');
      assert.equal(form.statusCode, 200);
      assert.match(form.body, /An administrator reset your password/);

      const common = await person.post('/account/password', {
        current: temporary,
        password: 'password1234',
        confirm: 'password1234',
      });
      assert.equal(common.statusCode, 422);
      assert.match(common.body, /This password is too common/);
      const chosen = 'tangerine lighthouse under snow';
      const changed = await person.post('/account/password', {
        current: temporary,
        password: chosen,
        confirm: chosen,
      });
      assert.equal(changed.statusCode, 303);
      assert.equal((await person.get('/crew/referrals')).statusCode, 200, 'the pages open again');

      const fresh = formSession(relay.app, { remoteAddress: '192.0.2.12' });
      await fresh.get('/sign-in');
      const next = await fresh.post('/sign-in', { email: 'reset.me@example.org', password: chosen });
      assert.equal(next.statusCode, 303);
      assert.notEqual(next.headers.location, '/account/password');

      const actions = await relay.ctx.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'actor'])
        .where('entity_id', '=', id)
        .where('action', 'in', ['user.password-reset', 'user.password-changed'])
        .orderBy('seq')
        .execute();
      assert.deepEqual(actions, [
        { action: 'user.password-reset', actor: `user:${adminId}` },
        { action: 'user.password-changed', actor: `user:${id}` },
      ]);
    });
  });
}

describe('the per-client sign-in rate limit', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay('sqlite', { env: { SIGN_IN_RATE_LIMIT: '3' } });
  });
  after(async () => relay.close());

  it('answers 429 with Retry-After once a client has used its attempts for the minute', async () => {
    const browser = formSession(relay.app, { remoteAddress: '198.51.100.9' });
    await browser.get('/sign-in');
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push(
        (await browser.post('/sign-in', { email: `x${i}@example.org`, password: 'whatever it is' }))
          .statusCode,
      );
    }
    assert.deepEqual(statuses, [422, 422, 422, 429]);
    const limited = await browser.post('/sign-in', { email: 'y@example.org', password: 'whatever it is' });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
    const other = formSession(relay.app, { remoteAddress: '198.51.100.10' });
    await other.get('/sign-in');
    assert.equal(
      (await other.post('/sign-in', { email: 'z@example.org', password: 'whatever it is' })).statusCode,
      422,
      'another client is not held up',
    );
  });
});
