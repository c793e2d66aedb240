// Not under test/e2e/: CI runs that folder again with the test processes' clock faked to a Sunday
// night, and Chromium, on the real clock, would drop the provider's short-lived cookies as expired.
// Signing in does not depend on the hour.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../../src/access/user.service.ts';
import { assertAccessible, launchBrowser } from '../helpers/browser.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { freePort } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const SECRET = 'a-client-secret-for-the-browser-test';

describeEachDialect("signing in with the organisation's provider, in a real browser", (dialect) => {
  let op: TestProvider;
  let relay: TestRelay;
  let browser: Browser;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    op = await startTestProvider([
      {
        clientId: 'relay',
        secret: SECRET,
        redirectUris: [`${base}/sign-in/oidc/trust/callback`],
        postLogoutRedirectUris: [`${base}/sign-in`],
      },
    ]);
    relay = await createTestRelay(dialect, {
      now: new Date().toISOString(),
      env: {
        BASE_URL: base,
        OIDC_PROVIDERS: 'trust',
        OIDC_TRUST_ISSUER: op.issuer,
        OIDC_TRUST_CLIENT_ID: 'relay',
        OIDC_TRUST_CLIENT_SECRET: SECRET,
        OIDC_TRUST_LABEL: 'Sign in with your ambulance trust',
        LOCAL_SIGN_IN: 'off',
      },
    });
    await relay.app.listen({ port, host: '127.0.0.1' });
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email: 'robin@trust.example', name: 'Robin Crew', roles: ['crew'] },
      'test',
      () => true,
    );
    op.accounts.set('robin-at-trust', { email: 'robin@trust.example', email_verified: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
    await op?.close();
  });

  /** A page where Relay's CSP holds; axe is checked on a copy that may inject its script. */
  async function newPage(): Promise<Page> {
    return (await browser.newContext()).newPage();
  }

  /** Opens the page's URL, with its cookies, where axe-core may be injected, and checks it. */
  async function checkAccessible(page: Page, what: string): Promise<void> {
    const storageState = await page.context().storageState();
    // bypassCSP: axe-core is injected as an inline script, which Relay's CSP (rightly) refuses.
    const copy = await (await browser.newContext({ bypassCSP: true, storageState })).newPage();
    await copy.goto(page.url());
    await assertAccessible(copy, what);
    await copy.context().close();
  }

  it('signs in (linking by email), signs out at Relay and the provider, signs in again by subject', async () => {
    const page = await newPage();
    await page.goto(`${base}/sign-in`);
    await checkAccessible(page, 'the sign-in page');
    assert.equal(await page.locator('input[type=password]').count(), 0, 'no password form');
    op.login = { accountId: 'robin-at-trust' };
    await page.click('text=Sign in with your ambulance trust');
    await page.waitForURL((url) => url.origin === base && !url.pathname.startsWith('/sign-in'));
    assert.match(await page.content(), /Robin Crew/);
    await checkAccessible(page, 'the first page after signing in');

    // Relay's CSP lets the sign-out form's redirect reach the provider's end-session page.
    await page.click('button:has-text("Sign out")');
    await page.waitForURL((url) => url.origin === op.issuer);
    await page.click('button:has-text("Yes, sign me out")');
    await page.waitForURL(`${base}/sign-in`);
    assert.equal((await relay.ctx.db.kysely.selectFrom('sessions').selectAll().execute()).length, 0);

    // Signed out at the provider too, so it signs the person in afresh, here with a new email.
    op.accounts.set('robin-at-trust', { email: 'robin.new@trust.example', email_verified: true });
    await page.click('text=Sign in with your ambulance trust');
    await page.waitForURL((url) => url.origin === base && !url.pathname.startsWith('/sign-in'));
    assert.match(await page.content(), /Robin Crew/);
  });

  it('tells someone without an account to ask their administrator', async () => {
    op.accounts.set('nobody-here', { email: 'nobody@trust.example', email_verified: true });
    op.login = { accountId: 'nobody-here' };
    // Only GET redirects here, so axe may run in this page (bypassCSP lets its script in).
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${base}/sign-in`);
    await page.click('text=Sign in with your ambulance trust');
    await page.waitForURL((url) => url.pathname.endsWith('/callback'));
    assert.match(await page.content(), /Ask your Relay administrator for access/);
    await assertAccessible(page, 'the refusal page');
  });
});
