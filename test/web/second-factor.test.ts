import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { generate } from 'otplib';
import { FREE_FAILURES } from '../../src/access/sign-in.throttle.ts';
import { createUser } from '../../src/access/user.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { formSession, PASSWORD, type Browser } from '../helpers/web.ts';

/** The code an authenticator app holding `secret` shows at the relay's (settable) time. */
const codeAt = (relay: TestRelay, secret: string) =>
  generate({ secret, epoch: Math.floor(relay.clock.now().getTime() / 1000) });

/** Moves the relay's clock on by one 30-second step, so the app shows a new code. */
const nextStep = (relay: TestRelay) => relay.clock.set(new Date(relay.clock.now().getTime() + 30_000));

/** The error the NHS input shows beside the code field (its text, without the hidden "Error:"). */
const errorBesideCode = (body: string) => {
  const at = body.indexOf('id="code-error"');
  if (at < 0) return undefined;
  const span = body.slice(at, body.indexOf('</span>\n', at) + 7);
  return span
    .replace(/<[^>]+>/g, '')
    .replace(/^[^>]*>/, '')
    .replace('Error:', '')
    .trim();
};

describeEachDialect('a second factor for local accounts (MFA_LOCAL=required)', (dialect) => {
  let relay: TestRelay;
  let people = 0;
  before(async () => {
    relay = await createTestRelay(dialect, { env: { MFA_LOCAL: 'required' } });
  });
  after(async () => relay.close());

  const person = async (roles: ('crew' | 'admin')[] = ['crew']) => {
    people += 1;
    const email = `mfa-${people}@example.org`;
    const { user } = await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email, name: `Person ${people}`, roles, password: PASSWORD },
      'test',
      () => true,
    );
    return { email, id: user.id };
  };

  /** Password, then the page that follows it; the browser holds no session yet. */
  const password = async (email: string, browser: Browser = formSession(relay.app)) => {
    await browser.get('/sign-in');
    const response = await browser.post('/sign-in', {
      email,
      password: PASSWORD,
      next: '/crew/referrals/new',
    });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/sign-in/second-factor');
    assert.equal(browser.cookie('relay_session'), undefined, 'no session before the code');
    return { browser, page: await browser.get('/sign-in/second-factor') };
  };

  /** Signs a new person in for the first time, enrolling; returns their app's secret and codes. */
  const enrolled = async (roles: ('crew' | 'admin')[] = ['crew']) => {
    const who = await person(roles);
    const { browser, page } = await password(who.email);
    const secret = secretOn(page.body);
    const done = await browser.post('/sign-in/second-factor', { code: await codeAt(relay, secret) });
    assert.equal(done.statusCode, 200, done.body);
    const recoveryCodes = [
      ...done.body.matchAll(/<code class="nhsuk-u-font-size-24">([a-z0-9-]+)<\/code>/g),
    ].map((m) => m[1]!);
    nextStep(relay);
    return { ...who, browser, secret, recoveryCodes, done };
  };

  const secretOn = (body: string) => {
    const secret = /<code id="totp-secret"[^>]*>([A-Z2-7 ]+)<\/code>/.exec(body)?.[1]?.replace(/ /g, '');
    assert.ok(secret, 'the enrolment page shows the secret as text');
    return secret;
  };

  const audited = async (userId: string) =>
    relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('entity_id', '=', userId)
      .orderBy('seq')
      .execute();

  it('enrols at the first sign-in: the secret as text and a link, a wrong code refused beside the field, then ten recovery codes once', async () => {
    const who = await person();
    const { browser, page } = await password(who.email);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Set up security codes/);
    const secret = secretOn(page.body);
    const uri = /id="totp-uri" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(uri?.startsWith('otpauth://totp/'), 'an otpauth:// link');
    assert.equal(new URL(uri ?? '').searchParams.get('secret'), secret);

    const wrong = await browser.post('/sign-in/second-factor', { code: '000000' });
    assert.equal(wrong.statusCode, 422);
    assert.match(errorBesideCode(wrong.body) ?? '', /The code is not right/);
    assert.match(wrong.body, /nhsuk-error-summary/);
    assert.match(wrong.body, /<title>Error: /);
    assert.equal(secretOn(wrong.body), secret, 'the same secret is offered again');
    assert.equal(browser.cookie('relay_session'), undefined);

    const right = await browser.post('/sign-in/second-factor', { code: await codeAt(relay, secret) });
    assert.equal(right.statusCode, 200);
    assert.match(right.body, /Keep your recovery codes/);
    const codes = [...right.body.matchAll(/<code class="nhsuk-u-font-size-24">([a-z0-9-]+)<\/code>/g)];
    assert.equal(codes.length, 10);
    assert.equal(right.headers['cache-control'], 'no-store');
    assert.ok(browser.cookie('relay_session'), 'signed in');
    assert.equal((await browser.get('/crew/referrals/new')).statusCode, 200);

    const stored = await relay.ctx.db.kysely
      .selectFrom('second_factors')
      .selectAll()
      .where('id', '=', who.id)
      .executeTakeFirstOrThrow();
    assert.match(stored.secret, /^enc1:/, 'the secret is sealed');
    assert.ok(!stored.secret.includes(secret));
    const hashes = await relay.ctx.db.kysely
      .selectFrom('recovery_codes')
      .select('code_hash')
      .where('user_id', '=', who.id)
      .execute();
    assert.equal(hashes.length, 10);
    assert.ok(
      hashes.every((h) => h.code_hash.startsWith('scrypt$')),
      'recovery codes are stored hashed',
    );

    const trail = await audited(who.id);
    assert.deepEqual(
      trail.map((a) => a.action),
      [
        'user.created',
        'user.password-accepted',
        'user.second-factor-failed',
        'user.second-factor-enrolled',
        'user.signed-in',
      ],
    );
    const text = JSON.stringify(trail);
    assert.ok(!text.includes(secret) && !codes.some((c) => text.includes(c[1]!)), 'no secret in the audit');
    nextStep(relay);
  });

  it('asks for the code at each later sign-in, and refuses a code already used in its window', async () => {
    const who = await enrolled();
    const { browser, page } = await password(who.email);
    assert.match(page.body, /Enter your security code/);
    const code = await codeAt(relay, who.secret);
    const first = await browser.post('/sign-in/second-factor', { code });
    assert.equal(first.statusCode, 303);
    assert.equal(first.headers.location, '/crew/referrals/new');
    assert.ok(browser.cookie('relay_session'));

    const other = await password(who.email);
    const replayed = await other.browser.post('/sign-in/second-factor', { code });
    assert.equal(replayed.statusCode, 422);
    assert.match(errorBesideCode(replayed.body) ?? '', /used already/);
    assert.equal(other.browser.cookie('relay_session'), undefined);
    nextStep(relay);
    const fresh = await other.browser.post('/sign-in/second-factor', {
      code: await codeAt(relay, who.secret),
    });
    assert.equal(fresh.statusCode, 303);
    const failed = (await audited(who.id)).filter((a) => a.action === 'user.second-factor-failed');
    assert.deepEqual(
      failed.map((a) => JSON.parse(a.detail ?? '{}') as unknown),
      [{ reason: 'replayed' }],
    );
    nextStep(relay);
  });

  it('takes a recovery code instead of the app, once', async () => {
    const who = await enrolled();
    const code = who.recoveryCodes[3]!;
    const { browser } = await password(who.email);
    const used = await browser.post('/sign-in/second-factor', { code: ` ${code.toUpperCase()} ` });
    assert.equal(used.statusCode, 303);
    assert.ok(browser.cookie('relay_session'));
    const again = await password(who.email);
    const refused = await again.browser.post('/sign-in/second-factor', { code });
    assert.equal(refused.statusCode, 422);
    assert.match(errorBesideCode(refused.body) ?? '', /not right/);
    const trail = await audited(who.id);
    const use = trail.find((a) => a.action === 'user.recovery-code-used');
    assert.deepEqual(JSON.parse(use?.detail ?? '{}'), { remaining: 9 });
    assert.ok(!JSON.stringify(trail).includes(code.slice(0, 5)));
  });

  it('counts wrong codes in the sign-in throttle: after the free tries even the right code waits', async () => {
    const who = await enrolled();
    const browser = formSession(relay.app, { remoteAddress: '192.0.2.44' });
    await password(who.email, browser);
    let last;
    for (let i = 0; i < FREE_FAILURES; i += 1)
      last = await browser.post('/sign-in/second-factor', { code: String(100000 + i) });
    assert.equal(last?.statusCode, 429);
    assert.ok(Number(last?.headers['retry-after']) > 0);
    assert.match(errorBesideCode(last?.body ?? '') ?? '', /Too many wrong codes/);
    const right = await browser.post('/sign-in/second-factor', { code: await codeAt(relay, who.secret) });
    assert.equal(right.statusCode, 429);
    assert.equal(browser.cookie('relay_session'), undefined);
    const again = await browser.post('/sign-in', { email: who.email, password: PASSWORD });
    assert.equal(again.statusCode, 429, 'a right password does not clear the count the codes ran up');
  });

  it('reaches no page at all with only the password', async () => {
    const who = await person(['admin']);
    const { browser } = await password(who.email);
    for (const url of ['/admin/users', '/crew/referrals/new', '/account/password', '/']) {
      const response = await browser.get(url);
      assert.ok([303, 302].includes(response.statusCode), `${url}: ${response.statusCode}`);
      assert.match(String(response.headers.location), /^\/sign-in/);
    }
    assert.equal(
      (await relay.ctx.db.kysely.selectFrom('sessions').selectAll().where('user_id', '=', who.id).execute())
        .length,
      0,
    );
  });

  it('lets an admin reset a second factor, with confirmation and a reason: the person is signed out and enrols again', async () => {
    const admin = await enrolled(['admin']);
    const who = await enrolled();
    const list = await admin.browser.get('/admin/users');
    assert.match(list.body, new RegExp(`href="/admin/users/${who.id}/reset-second-factor"`));
    assert.match(list.body, /Security codes set up/);
    const ask = await admin.browser.get(`/admin/users/${who.id}/reset-second-factor`);
    assert.equal(ask.statusCode, 200);
    assert.match(ask.body, /Reset the security codes of/);
    const noReason = await admin.browser.post(`/admin/users/${who.id}/reset-second-factor`, { reason: '' });
    assert.equal(noReason.statusCode, 422);
    assert.match(noReason.body, /Enter the reason/);
    const reset = await admin.browser.post(`/admin/users/${who.id}/reset-second-factor`, {
      reason: 'lost phone',
    });
    assert.equal(reset.statusCode, 303);
    const signedOut = await who.browser.get('/crew/referrals/new');
    assert.equal(signedOut.statusCode, 303, 'their session ended');
    const { page } = await password(who.email);
    assert.match(page.body, /Set up security codes/);
    assert.notEqual(secretOn(page.body), who.secret, 'a new secret');
    const entry = (await audited(who.id)).find((a) => a.action === 'user.second-factor-reset');
    assert.deepEqual(JSON.parse(entry?.detail ?? '{}'), { reason: 'lost phone', hadFactor: true });
  });
});

describeEachDialect('local accounts where MFA_LOCAL=optional (the embedded default)', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('signs in with the password alone', async () => {
    assert.equal(relay.ctx.config.mfaLocal, 'optional');
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email: 'plain@example.org', roles: ['crew'], password: PASSWORD },
      'test',
      () => true,
    );
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const response = await browser.post('/sign-in', {
      email: 'plain@example.org',
      password: PASSWORD,
      next: '/crew/referrals/new',
    });
    assert.equal(response.headers.location, '/crew/referrals/new');
    assert.ok(browser.cookie('relay_session'));
  });
});
