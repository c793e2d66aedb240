import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { assertAccessible } from '../helpers/browser.ts';
import { pinnedClock } from '../helpers/clock.ts';
import { startDemoInBrowser } from './demo-browser.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { eventually } from '../helpers/process.ts';

/** London wall-clock parts of an instant, as a crew member would type them. */
function londonParts(at: Date) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { day: parts.day!, month: parts.month!, year: parts.year!, time: `${parts.hour}:${parts.minute}` };
}

// The relay's clock is pinned to a Wednesday morning: at night, on Sundays or on a bank holiday the
// urgent referral would also go to the out-of-hours team, and the story would be a different one.
const clock = pinnedClock('2026-11-25T10:00:00Z');

describeEachDialect('the whole story, in a real browser', (dialect) => {
  let browser: Browser, base: string, passwords: Map<string, string>, epcrKey: string;
  let stop: () => Promise<void>;
  const visited: string[] = [];

  before(async () => {
    ({ browser, base, passwords, epcrKey, stop } = await startDemoInBrowser(dialect, {
      TRIAGE_BY: '2s',
      WATCHDOG_INTERVAL_MS: '500',
      DISPATCH_POLL: '200ms',
      ...clock.env,
    }));
  });
  after(() => stop());

  /** Opens a page as a person; every page visited is checked with axe. */
  async function signIn(email: string): Promise<Page> {
    // bypassCSP: axe-core is injected as an inline script, which Relay's CSP (rightly) refuses.
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    await check(page);
    await page.fill('#email', email);
    await page.fill('#password', passwords.get(email) ?? '');
    await page.click('button:has-text("Sign in")');
    await page.waitForLoadState();
    return page;
  }
  async function check(page: Page) {
    visited.push(new URL(page.url()).pathname);
    await assertAccessible(page, page.url());
  }

  it('crew raise, the team acknowledges from the email and records an outcome, crew see it, safeguarding resolves an escalation', async () => {
    // A crew member raises a referral with the form.
    const crew = await signIn('crew@example.org');
    await crew.goto(`${base}/crew/referrals/new`);
    await check(crew);
    const when = londonParts(new Date(clock.now().getTime() - 5 * 60_000));
    const fill = async (name: string, value: string) => crew.fill(`[name="${name}"]`, value);
    await fill('incidentNumber', 'INC-E2E-1');
    // The date and time are filled in as now, folded away: open them to give the real ones.
    await crew.click('#incident-when summary');
    await fill('incidentDate[day]', when.day);
    await fill('incidentDate[month]', when.month);
    await fill('incidentDate[year]', when.year);
    await fill('incidentTime', when.time);
    await fill('incidentPostcode', 'B15 2TT');
    await fill('referrerRole', 'Paramedic');
    await fill('referrerStaffId', 'WM-30417');
    await fill('referrerPhone', '01632 960123');
    await fill('givenName', 'Edna');
    await fill('familyName', 'Whitfield');
    await fill('dateOfBirth[day]', '12');
    await fill('dateOfBirth[month]', '4');
    await fill('dateOfBirth[year]', '1939');
    await fill('addressLine1', 'Flat 2, 14 Elmdon Road');
    await fill('addressTown', 'Birmingham');
    await fill('addressPostcode', 'B15 2TT');
    await crew.check('input[name="referralType"][value="safeguarding"]');
    await crew.check('input[name="categoriesAdult"][value="neglect"]');
    await crew.check('input[name="urgency"][value="urgent"]');
    await fill('concern', 'Found on the floor, cold, no food in the flat.');
    await crew.check('input[name="consentDiscussed"][value="yes"]');
    await crew.check('input[name="consentGiven"][value="yes"]');
    await crew.check('input[name="consentCapacity"][value="has-capacity"]');
    await crew.click('form[action="/crew/referrals/check"] button[type="submit"]:not([formaction])');
    await crew.waitForURL(/\/check$/);
    assert.match((await crew.textContent('h1')) ?? '', /check/i);
    await check(crew);
    await crew.click('button:has-text("Send referral")');
    await crew.waitForURL(/\/confirmation$/);
    await check(crew);
    const reference = /SR-\d{4}-\d{6}/.exec((await crew.textContent('main')) ?? '')?.[0];
    assert.ok(reference, 'the confirmation shows the reference');

    // The email arrives; the team member opens it in the Mailbox and acknowledges from its link.
    const team = await signIn('adults.birmingham@example.org');
    await eventually(async () => {
      await team.goto(`${base}/mailbox`);
      return (await team.locator(`a:has-text("${reference}")`).count()) > 0;
    }, 'the referral email in the Mailbox');
    await check(team);
    await team.locator(`a:has-text("${reference}")`).first().click();
    await team.waitForLoadState();
    await check(team);
    await team.locator('a[href*="/ack/"]').first().click();
    await team.waitForLoadState();
    await check(team);
    await team.fill('[name="fullName"]', 'Sam Okafor');
    await team.click('main form button');
    await team.waitForLoadState();
    assert.match((await team.textContent('main')) ?? '', /acknowledged/i);
    await check(team);

    // …and records an outcome from the team inbox.
    await team.goto(`${base}/inbox?view=due`);
    await check(team);
    await team.locator(`a:has-text("${reference}")`).first().click();
    await team.waitForLoadState();
    await check(team);
    await team.check('input[name="outcome"][value="s42-enquiry"]');
    await team.fill('[name="note"]', 'Section 42 enquiry opened; visit booked.');
    await team.click('button:has-text("Record outcome")');
    await team.waitForLoadState();
    await check(team);

    // The crew member sees the outcome.
    await crew.goto(`${base}/crew/referrals`);
    await check(crew);
    const row = crew.locator('tr', { hasText: reference });
    assert.match((await row.textContent()) ?? '', /s42|Section 42/i);

    // A referral nobody can route waits in triage; past its deadline the safeguarding lead resolves the escalation.
    const occurredAt = new Date(clock.now().getTime() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const base2 = exampleReferral();
    const raised = await fetch(`${base}/api/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${epcrKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        exampleReferral({
          source: { system: 'demo-epcr', reference: 'E2E-TRIAGE' },
          incident: { ...base2.incident, occurredAt, location: { postcode: 'SW1A 2AA' } },
          subject: {
            ...base2.subject,
            address: { line1: '1 High St', town: 'London', postcode: 'SW1A 1AA' },
          },
        }),
      ),
    });
    assert.equal(raised.status, 201);
    const lead = await signIn('safeguarding@example.org');
    await check(lead);
    await eventually(async () => {
      await lead.goto(`${base}/safeguarding/escalations`);
      return (await lead.locator('a[href$="/resolve"]').count()) > 0;
    }, 'the triage escalation on the escalations page');
    await check(lead);
    await lead.locator('form[action$="/claim"] button').first().click();
    await lead.waitForLoadState();
    await check(lead);
    // The escalation's own page: who it was pushed to, its claim, its history.
    const detail = await lead
      .locator('.nhsuk-card__heading a[href^="/safeguarding/escalations/"]')
      .first()
      .getAttribute('href');
    await lead.goto(`${base}${detail}`);
    await check(lead);
    assert.match((await lead.textContent('main')) ?? '', /Claimed by\s*Jo Bennett/);
    await lead.goto(`${base}/safeguarding/escalations`);
    await lead.locator('a[href$="/resolve"]').first().click();
    await lead.waitForLoadState();
    await check(lead);
    await lead.fill('[name="note"]', 'Called the Met MASH; they will take it. Routed by hand.');
    await lead.click('button:has-text("Resolve escalation")');
    await lead.waitForLoadState();
    await check(lead);
    await lead.goto(`${base}/safeguarding/escalations?view=resolved`);
    assert.match((await lead.textContent('main')) ?? '', /Called the Met MASH/);
    await lead.goto(`${base}/safeguarding`);
    await check(lead);
    assert.ok(visited.length >= 15, `axe checked ${visited.length} pages`);
  });
});
