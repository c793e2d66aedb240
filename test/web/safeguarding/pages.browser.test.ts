import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { createUser, type Role } from '../../../src/access/user.service.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { assertAccessible, launchBrowser } from '../../helpers/browser.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { outsideCoverage } from './helpers.ts';
import { raise } from '../../helpers/referrals.ts';

/**
 * The duty social worker's, safeguarding lead's and admin's pages in Debian's Chromium, on a desktop
 * and on a 390×844 phone, with axe (WCAG 2.2 AA) on every page visited: the dashboard counts sent
 * copies as open work, an escalation shows urgency, lateness and each copy and can be claimed and
 * resolved without sideways scrolling, triage hands a referral off, and destructive admin actions ask
 * for a reason. SQLite only: the pages are the same on both engines, whose queries the other tests
 * in this folder run.
 */
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const PASSWORD = 'correct horse battery staple';

describe('safeguarding and admin pages in a browser', () => {
  let relay: TestRelay;
  let browser: Browser;
  let base: string;
  const visited: string[] = [];

  before(async () => {
    relay = await createTestRelay('sqlite');
    // An urgent referral nobody sent or acknowledged, four hours on: escalated. Two out-of-area
    // referrals in triage, one for each viewport to hand off.
    await raise(relay);
    await raise(relay, outsideCoverage());
    await raise(relay, outsideCoverage());
    relay.clock.advance(4 * HOUR + MINUTE);
    await sweep(relay.ctx);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await relay.close();
  });

  let people = 0;
  async function signIn(viewport: (typeof VIEWPORTS)[number], roles: Role[]): Promise<Page> {
    people += 1;
    const email = `browser-${people}@example.org`;
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email, name: `Person ${people}`, roles, teams: [], password: PASSWORD },
      'test',
      () => true,
    );
    // bypassCSP: axe-core is injected as an inline script, which Relay's CSP (rightly) refuses.
    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      bypassCSP: true,
    });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    await check(page, viewport);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForLoadState();
    return page;
  }

  /** axe on the page, and on a phone nothing wider than the screen. */
  async function check(page: Page, viewport: (typeof VIEWPORTS)[number]) {
    const what = `${viewport.name} ${new URL(page.url()).pathname}`;
    visited.push(what);
    await assertAccessible(page, what);
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number;
    assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px`);
  }

  async function go(page: Page, viewport: (typeof VIEWPORTS)[number], path: string) {
    await page.goto(`${base}${path}`);
    await check(page, viewport);
  }

  async function submit(page: Page, viewport: (typeof VIEWPORTS)[number], button: string) {
    await Promise.all([page.waitForNavigation(), page.click(`button:has-text("${button}")`)]);
    await check(page, viewport);
  }

  const text = async (page: Page) => (await page.textContent('main')) ?? '';

  for (const viewport of VIEWPORTS) {
    it(`dashboard and escalations on a ${viewport.name}`, async () => {
      const page = await signIn(viewport, ['safeguarding']);
      await go(page, viewport, '/safeguarding');
      assert.match(await text(page), /Sent, not yet acknowledged/);
      assert.doesNotMatch(
        (await page.locator('caption:has-text("Finished deliveries") >> xpath=..').textContent()) ?? '',
        /\bSent\b/,
      );

      await go(page, viewport, '/safeguarding/escalations');
      const card = page.locator('li', { hasText: 'Not acknowledged by the deadline' }).first();
      const facts = (await card.textContent()) ?? '';
      assert.match(facts, /Urgent/);
      assert.match(facts, /Overdue by 1 min/);
      assert.match(facts, /Email: Queued/);
      const claim = card.locator('button:has-text("Claim")');
      if ((await claim.count()) > 0) {
        const box = await claim.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width, 'Claim is on the screen');
        await Promise.all([page.waitForNavigation(), claim.click()]);
        await check(page, viewport);
      }
      const resolve = page
        .locator('li', { hasText: 'Not acknowledged by the deadline' })
        .first()
        .locator('a:has-text("Resolve")');
      const box = await resolve.boundingBox();
      assert.ok(box && box.x + box.width <= viewport.width, 'Resolve is on the screen');
      await Promise.all([page.waitForNavigation(), resolve.click()]);
      await check(page, viewport);
    });

    it(`search finds a referral by NHS number, typed with spaces, on a ${viewport.name}`, async () => {
      const page = await signIn(viewport, ['safeguarding']);
      await go(page, viewport, '/safeguarding/search');
      await page.fill('#q', '943 476 5919');
      await submit(page, viewport, 'Search');
      assert.match(await text(page), /3 referrals/, 'the three raised above are the same person');
      await page.fill('#q', 'Edna Whitfeld');
      await submit(page, viewport, 'Search');
      assert.match(await text(page), /No referrals match/);
    });

    it(`triage hands an out-of-area referral off on a ${viewport.name}`, async () => {
      const page = await signIn(viewport, ['safeguarding']);
      await go(page, viewport, '/safeguarding/triage');
      await Promise.all([page.waitForNavigation(), page.locator('main td a').first().click()]);
      await check(page, viewport);
      await submit(page, viewport, 'Record hand-off');
      assert.match(await text(page), /Enter the service it was handed to/);
      assert.match(await text(page), /Select how it was sent to that service/);
      await page.fill('#service', 'Westminster Adult Social Care Access Team');
      await page.check('input[name="method"][value="phone"]');
      await submit(page, viewport, 'Record hand-off');
      assert.match(await text(page), /handed off to Westminster Adult Social Care Access Team/);
    });

    it(`admin confirms, with a reason, before disabling or revoking on a ${viewport.name}`, async () => {
      const page = await signIn(viewport, ['admin']);
      const leaver = `leaver-${viewport.name}@example.org`;
      await createUser(
        relay.ctx.db.kysely,
        relay.clock,
        { email: leaver, name: 'Leaver', roles: ['crew'], teams: [], password: PASSWORD },
        'test',
        () => true,
      );
      await go(page, viewport, '/admin/users');
      await Promise.all([
        page.waitForNavigation(),
        page.click(`a:has-text("Disable"):has(span:has-text("${leaver}"))`),
      ]);
      await check(page, viewport);
      assert.match(await text(page), /is signed out at once/);
      await submit(page, viewport, 'Disable account');
      assert.match(await text(page), /Enter the reason/);
      await page.fill('#reason', 'Left the service');
      await submit(page, viewport, 'Disable account');
      assert.match(new URL(page.url()).pathname, /^\/admin\/users$/);

      await Promise.all([
        page.waitForNavigation(),
        page.click(`a:has-text("Change roles and teams"):has(span:has-text("${leaver}"))`),
      ]);
      await check(page, viewport);
      await page.check('input[name="roles"][value="auditor"]');
      await submit(page, viewport, 'Save changes');

      await go(page, viewport, '/admin/api-keys');
      await Promise.all([
        page.waitForNavigation(),
        page.locator('main a:has-text("Revoke")').first().click(),
      ]);
      await check(page, viewport);
      assert.match(await text(page), /Every request with this key is refused/);
    });
  }

  it('checked every page it visited', () => {
    assert.ok(visited.length >= 30, `axe checked ${visited.length} pages`);
  });
});
