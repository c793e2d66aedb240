import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { assertAccessible } from '../helpers/browser.ts';
import { pinnedClock } from '../helpers/clock.ts';
import { startDemoInBrowser } from './demo-browser.ts';
import { describeEachDialect, type TestDatabase } from '../helpers/db.ts';

// A Wednesday morning, so an urgent referral goes to the daytime team only.
const clock = pinnedClock('2026-11-25T10:00:00Z');

const VIEWPORTS = [
  { name: 'desktop', width: 1024, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const WAITING = /Waiting for signal — not yet sent/;

describeEachDialect(
  "the crew's form in a real browser: drafts, offline, the design system's scripts",
  (dialect) => {
    let database: TestDatabase, browser: Browser, base: string, passwords: Map<string, string>;
    let stop: () => Promise<void>;
    before(async () => {
      ({ database, browser, base, passwords, stop } = await startDemoInBrowser(dialect, {
        DISPATCH_POLL: '200ms',
        ...clock.env,
      }));
    });
    after(() => stop());

    /** A browser context under Relay's own CSP (no bypass), so the pages' scripts run as in production. */
    async function signIn(email: string, viewport: { width: number; height: number }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (m) => {
        // Scripts only: the design system's stylesheet asks for fonts from its CDN, which the CSP refuses.
        if (/Content Security Policy|Refused to/.test(m.text()) && /script/i.test(m.text()))
          refused.push(m.text());
      });
      await page.goto(`${base}/sign-in`);
      await assertAccessible(page, 'sign-in');
      await page.fill('#email', email);
      await page.fill('#password', passwords.get(email) ?? '');
      await page.click('button:has-text("Sign in")');
      await page.waitForLoadState();
      return { context, page, refused };
    }

    async function referralsRaised(): Promise<number> {
      const row = await database.db.kysely
        .selectFrom('referrals')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('source_system', '=', 'relay-web')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }

    /** The answers a crew member gives that are not filled in for them. */
    async function fillPerson(page: Page, given: string) {
      await page.fill('[name="incidentNumber"]', `INC-${given}`);
      await page.fill('[name="incidentPostcode"]', 'B15 2TT');
      await page.fill('[name="givenName"]', given);
      await page.fill('[name="familyName"]', 'Whitfield');
      await page.fill('[name="dateOfBirth[day]"]', '12');
      await page.fill('[name="dateOfBirth[month]"]', '4');
      await page.fill('[name="dateOfBirth[year]"]', '1939');
      await page.fill('[name="addressLine1"]', 'Flat 2, 14 Elmdon Road');
      await page.fill('[name="addressTown"]', 'Birmingham');
      await page.fill('[name="addressPostcode"]', 'B15 2TT');
    }

    async function fillConcern(page: Page) {
      await page.check('input[name="referralType"][value="safeguarding"]');
      await page.check('input[name="categoriesAdult"][value="neglect"]');
      await page.check('input[name="urgency"][value="urgent"]');
      await page.fill('[name="concern"]', 'Found on the floor, cold, no food in the flat.');
      await page.check('input[name="consentDiscussed"][value="yes"]');
      await page.check('input[name="consentGiven"][value="yes"]');
      await page.check('input[name="consentCapacity"][value="has-capacity"]');
    }

    async function fillMe(page: Page) {
      if (!(await page.locator('#referrerRole').isVisible())) await page.click('#your-details summary');
      await page.fill('[name="referrerRole"]', 'Paramedic');
      await page.fill('[name="referrerStaffId"]', 'WM-30417');
      await page.fill('[name="referrerPhone"]', '01632 960123');
    }

    /**
     * The signal comes back. Playwright brings a context's pages back online before its service
     * workers, and the form's script sends at once on the page's "online" event: the page it then
     * opens could reach the service worker while that is still offline, and get the worker's kept
     * form in place of the page asked for (CI failed so). A phone has one network for both, so the
     * page's requests wait here until both are back.
     */
    async function signalReturns(context: BrowserContext, page: Page) {
      let bothBack!: () => void;
      const back = new Promise<void>((resolve) => (bothBack = resolve));
      const hold = async (route: Route) => {
        await back;
        await route.continue();
      };
      await page.route('**/*', hold);
      await context.setOffline(false);
      bothBack();
      // After `hold` has let its requests go: unroute alone lets them go itself, and `hold` then fails.
      await page.unrouteAll({ behavior: 'wait' });
    }

    const continueButton = 'form[data-crew-form="answers"] button[type="submit"]';

    for (const viewport of VIEWPORTS) {
      it(`runs the design system's scripts under the CSP and names contradictions beside both fields [${viewport.name}]`, async () => {
        const { context, page, refused } = await signIn('crew@example.org', viewport);
        await page.goto(`${base}/crew/referrals/new`);
        await assertAccessible(page, 'the form');
        // A conditional reveal: the reason for referring without consent appears with "No".
        assert.equal(await page.locator('#consentOverrideReason').isVisible(), false);
        await page.check('input[name="consentGiven"][value="no"]');
        assert.equal(await page.locator('#consentOverrideReason').isVisible(), true);
        // The character count counts.
        await page.fill('[name="concern"]', 'Twelve chars');
        assert.match(
          (await page.locator('.nhsuk-character-count__status').textContent()) ?? '',
          /You have 9,988 characters remaining/,
        );
        // Contradictions, each named beside its field; the error summary takes the focus.
        await fillMe(page);
        await fillPerson(page, 'Edna');
        await page.fill('[name="ageEstimate"]', '30');
        await page.fill('[name="nhsNumber"]', '943-476-5919');
        await page.click(continueButton);
        await page.waitForSelector('.nhsuk-error-summary');
        // A locator, not waitForFunction: a string predicate that is not true at once is polled with
        // eval in the page, which the form's CSP refuses (the test failed whenever focus came late).
        await page.locator('.nhsuk-error-summary:focus').waitFor();
        assert.match((await page.locator('#dateOfBirth-error').textContent()) ?? '', /age estimate/);
        assert.match((await page.locator('#ageEstimate-error').textContent()) ?? '', /date of birth/);
        assert.equal(await page.locator('#nhsNumber-error').count(), 0, 'a dashed NHS number is fine');
        await assertAccessible(page, 'the form with errors');
        assert.deepEqual(refused, [], 'nothing refused by the CSP');
        await context.close();
      });

      it(`opens the email's portal link after sign-in, and shows the phone header's "More" menu [${viewport.name}]`, async () => {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        // On the desktop as the safeguarding lead; on the phone as the crew member who raised it
        // (the desktop run of the offline test below raised one by then).
        const who = viewport.name === 'desktop' ? 'safeguarding@example.org' : 'crew@example.org';
        const query = database.db.kysely.selectFrom('referrals').select('id').orderBy('received_at');
        const row = await (
          viewport.name === 'desktop' ? query : query.where('source_system', '=', 'relay-web')
        ).executeTakeFirst();
        const id = row?.id ?? '00000000-0000-4000-8000-000000000000';
        await page.goto(`${base}/referrals/${id}`);
        assert.match(page.url(), /\/sign-in\?next=/);
        await page.fill('#email', who);
        await page.fill('#password', passwords.get(who) ?? '');
        await page.click('button:has-text("Sign in")');
        await page.waitForLoadState();
        if (row) {
          const expected =
            viewport.name === 'desktop' ? `/safeguarding/referrals/${id}` : `/crew/referrals/${id}`;
          assert.equal(new URL(page.url()).pathname, expected);
          await assertAccessible(page, 'the referral from the portal link');
        }
        if (viewport.name === 'phone') {
          // The safeguarding lead's seven pages do not fit a phone's header: the rest are under "More".
          const lead = await signIn('safeguarding@example.org', viewport);
          const toggle = lead.page.locator('.nhsuk-header__menu-toggle');
          assert.equal(await toggle.isVisible(), true, 'the phone header offers "More"');
          await toggle.click();
          assert.equal(
            await lead.page.locator('.nhsuk-header__menu-list a:has-text("Reconcile")').isVisible(),
            true,
          );
          await lead.context.close();
        }
        await context.close();
      });

      it(`keeps a draft through a timeout and sends exactly once through a lost signal [${viewport.name}]`, async () => {
        const before = await referralsRaised();
        const { context, page, refused } = await signIn('crew@example.org', viewport);
        await page.clock.install();
        await page.goto(`${base}/crew/referrals/new`);
        await fillMe(page);
        await fillPerson(page, viewport.name === 'phone' ? 'Ada' : 'Edna');
        // The draft is saved on the server a moment after typing stops.
        const saved = page.waitForResponse(
          (r) => /\/crew\/referrals\/drafts\/[0-9a-f-]+$/.test(r.url()) && r.ok(),
        );
        await page.clock.runFor(2000);
        await saved;

        // Idle: two minutes before the session ends, a warning; at the end, sign-in explains and
        // returns to the draft.
        await page.clock.fastForward('28:05');
        await page.waitForSelector('#session-timeout-warning');
        assert.match((await page.textContent('#session-timeout-warning')) ?? '', /signed out in 2 minutes/);
        await assertAccessible(page, 'the timeout warning');
        await page.clock.fastForward('02:00');
        await page.waitForURL(/\/sign-in\?next=.*reason=timeout/);
        assert.match((await page.textContent('main')) ?? '', /kept as a draft, and has not been sent/);
        await assertAccessible(page, 'sign-in after a timeout');
        await page.fill('#email', 'crew@example.org');
        await page.fill('#password', passwords.get('crew@example.org') ?? '');
        await page.click('button:has-text("Sign in")');
        await page.waitForURL(/\/crew\/referrals\/drafts\/[0-9a-f-]+$/);
        assert.equal(await page.inputValue('[name="familyName"]'), 'Whitfield', 'the draft is back');

        // The draft is listed under My referrals.
        const draftUrl = page.url();
        await page.goto(`${base}/crew/referrals`);
        assert.match((await page.textContent('#drafts')) ?? '', /Drafts/);
        assert.equal(await page.locator(`a[href="${new URL(draftUrl).pathname}"]`).count(), 1);
        await assertAccessible(page, 'My referrals with a draft');
        await page.goto(draftUrl);

        // The signal goes mid-form: Continue waits, and goes when it returns.
        await context.setOffline(true);
        await fillConcern(page);
        await page.click(continueButton);
        await page.waitForSelector(`[data-crew-status]:has-text("Waiting for signal")`);
        assert.match((await page.textContent('[data-crew-status]')) ?? '', WAITING);
        await signalReturns(context, page);
        await page.clock.runFor(6000);
        await page.waitForURL(/\/check$/);
        await assertAccessible(page, 'check your answers');

        // Send without signal, pressed twice: one referral, once the signal returns.
        await context.setOffline(true);
        await page.click('button:has-text("Send referral")');
        await page.waitForSelector(`[data-crew-status]:has-text("Waiting for signal")`);
        await page.click('button:has-text("Send referral")', { force: true }).catch(() => undefined);
        assert.equal(await referralsRaised(), before, 'nothing arrives without signal');
        await signalReturns(context, page);
        await page.clock.runFor(6000);
        await page.waitForURL(/\/confirmation$/);
        await assertAccessible(page, 'the confirmation');
        assert.equal(await referralsRaised(), before + 1, 'exactly one referral');

        // Back from the confirmation: no browser error page, the confirmation again.
        await page.goBack();
        await page.waitForURL(/\/confirmation$/);
        assert.equal(await referralsRaised(), before + 1);

        // The next form is filled in from this one: who I am, and the incident time is now.
        await page.goto(`${base}/crew/referrals/new`);
        assert.equal(await page.inputValue('[name="referrerStaffId"]'), 'WM-30417');
        // The relay's clock started at 10:00 London time and runs on from there.
        assert.match(await page.inputValue('[name="incidentTime"]'), /^10:\d\d$/);
        assert.equal(await page.inputValue('[name="incidentDate[day]"]'), '25');
        assert.deepEqual(refused, [], 'nothing refused by the CSP');
        await context.close();
      });
    }

    it('opens the form with no signal from the copy the device keeps, with the answers held there, and forgets that copy at sign-out', async () => {
      const { context, page, refused } = await signIn('crew@example.org', VIEWPORTS[0]);
      await page.goto(`${base}/crew/referrals/new`);
      // The worker keeps the blank form as it installs, then takes charge of the crew's pages.
      // (Evaluated as one expression: waitForFunction's own evaluation is refused by Relay's CSP.)
      await page.evaluate(`new Promise((controlled) => {
        if (navigator.serviceWorker.controller) controlled(true);
        else navigator.serviceWorker.addEventListener('controllerchange', () => controlled(true));
      })`);
      await fillPerson(page, 'Iris');

      await context.setOffline(true);
      await page.goto(`${base}/crew/referrals/new`);
      assert.equal(
        await page.inputValue('[name="givenName"]'),
        'Iris',
        'the answers come back from the device',
      );
      assert.equal(await page.inputValue('[name="addressTown"]'), 'Birmingham');
      assert.match((await page.textContent('main')) ?? '', /restored from this device/);
      // Any crew page opened without signal gives the form, never the browser's error page.
      await page.goto(`${base}/crew/referrals`);
      assert.equal(await page.locator('form[data-crew-form="answers"]').count(), 1);

      await context.setOffline(false);
      await page.goto(`${base}/crew/referrals`);
      await page.click('button:has-text("Sign out")');
      await page.waitForURL(/\/sign-in/);
      // The sign-in page's own static files may be kept again at once: public, and nobody's.
      const kept = await page.evaluate(`caches.keys()
        .then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
        .then((lists) => lists.flat().map((r) => new URL(r.url).pathname))`);
      assert.deepEqual(
        (kept as string[]).filter((path) => !path.startsWith('/assets/')),
        [],
        'no page is kept after sign-out',
      );
      assert.deepEqual(refused, [], 'nothing refused by the CSP');
      await context.close();
    });

    it('measures the form on a phone: screens of 844 px at 390 px wide', async (t) => {
      const { context, page } = await signIn('crew@example.org', { width: 390, height: 844 });
      await page.goto(`${base}/crew/referrals/new`);
      const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
      const screens = height / 844;
      // Before this form was folded it was 10.0 screens; with the crew member's details known, under 7.
      t.diagnostic(`the crew form is ${height} px, ${screens.toFixed(1)} phone screens`);
      assert.ok(screens < 7, `the form is ${screens.toFixed(1)} phone screens`);
      await context.close();
    });
  },
);
