import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../../src/access/user.service.ts';
import { assertAccessible, launchBrowser } from '../helpers/browser.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { PASSWORD } from '../helpers/web.ts';

/**
 * A local account's second factor in Debian's Chromium, on a desktop and on a 390×844 phone, with
 * axe (WCAG 2.2 AA) on every page: enrolment (the secret as text, a wrong code shown beside the
 * field, the recovery codes once), then a later sign-in with a code. SQLite only: the pages are the
 * same on both engines, which test/web/second-factor.test.ts runs.
 */
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
type Viewport = (typeof VIEWPORTS)[number];

describe('second factor pages in a browser', () => {
  let relay: TestRelay;
  let browser: Browser;
  let base: string;

  before(async () => {
    relay = await createTestRelay('sqlite', { env: { MFA_LOCAL: 'required' } });
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await relay.close();
  });

  /** The code the person's app shows now (at the relay's clock). */
  const appCode = (secret: string) =>
    generate({ secret, epoch: Math.floor(relay.clock.now().getTime() / 1000) });

  async function check(page: Page, viewport: Viewport) {
    const what = `${viewport.name} ${new URL(page.url()).pathname}`;
    await assertAccessible(page, what);
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number;
    assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px`);
  }

  async function password(viewport: Viewport, email: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
    });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in?next=/crew/referrals/new`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForURL(`${base}/sign-in/second-factor`);
    await check(page, viewport);
    return page;
  }

  for (const viewport of VIEWPORTS) {
    it(`enrols and signs in again with a code (${viewport.name})`, async () => {
      const email = `browser-mfa-${viewport.name}@example.org`;
      await createUser(
        relay.ctx.db.kysely,
        relay.clock,
        { email, roles: ['crew'], password: PASSWORD },
        'test',
        () => true,
      );

      const page = await password(viewport, email);
      assert.equal(await page.textContent('h1'), 'Set up security codes');
      const secret = (await page.textContent('#totp-secret'))!.replace(/\s/g, '');
      assert.match(secret, /^[A-Z2-7]{16,}$/);

      await page.fill('#code', '000000');
      await page.click('button:has-text("Confirm and sign in")');
      await page.waitForLoadState();
      await check(page, viewport);
      assert.match((await page.textContent('#code-error')) ?? '', /The code is not right/);
      assert.match((await page.textContent('.nhsuk-error-summary')) ?? '', /The code is not right/);

      await page.fill('#code', await appCode(secret));
      await page.click('button:has-text("Confirm and sign in")');
      await page.waitForSelector('#recovery-codes');
      await check(page, viewport);
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await page.click('text=I have kept my recovery codes');
      await page.waitForURL(`${base}/crew/referrals/new`);
      await page.context().close();

      relay.clock.set(new Date(relay.clock.now().getTime() + 30_000));
      const again = await password(viewport, email);
      assert.equal(await again.textContent('h1'), 'Enter your security code');
      await again.fill('#code', await appCode(secret));
      await again.click('button:has-text("Continue")');
      await again.waitForURL(`${base}/crew/referrals/new`);
      await check(again, viewport);
      await again.context().close();
      relay.clock.set(new Date(relay.clock.now().getTime() + 30_000));
    });
  }
});
