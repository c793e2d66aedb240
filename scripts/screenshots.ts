/**
 * Regenerates the README's screenshots: starts Relay on its embedded default with the demo data in a
 * throwaway database, raises a few referrals, and photographs the main pages as each role sees them.
 * Run with `npm run screenshots`; writes docs/screenshots/*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { exampleReferral } from '../src/referrals/referral.example.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { freePort, ROOT, startDemoRelay } from '../test/helpers/process.ts';

const OUT = join(ROOT, 'docs', 'screenshots');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'relay-shots-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { relay, passwords, epcrKey } = await startDemoRelay({
    DATABASE_URL: `sqlite:${join(dir, 'relay.db')}`,
    PORT: String(port),
    BASE_URL: base,
    TRIAGE_BY: '1s',
    WATCHDOG_INTERVAL_MS: '500',
  });
  const browser = await launchBrowser();
  try {
    const password = (email: string) => passwords.get(email) ?? '';
    const ids = await raiseSamples(base, epcrKey);
    await new Promise((r) => setTimeout(r, 3000));

    const shoot = async (email: string, shots: [string, string][]) => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
      await signIn(page, base, email, password(email));
      for (const [path, name] of shots) {
        await page.goto(`${base}${path}`);
        await page.screenshot({ path: join(OUT, `${name}.png`) });
      }
      await page.close();
    };
    await shoot('crew@example.org', [
      ['/crew/referrals/new', 'crew-new-referral'],
      ['/crew/referrals', 'crew-my-referrals'],
    ]);
    await shoot('adults.birmingham@example.org', [
      ['/inbox', 'team-inbox'],
      [`/inbox/referrals/${ids[0]}`, 'team-referral'],
      ['/mailbox', 'mailbox'],
    ]);
    await shoot('safeguarding@example.org', [
      ['/safeguarding', 'safeguarding-dashboard'],
      ['/safeguarding/escalations', 'safeguarding-escalations'],
    ]);
    await shoot('admin@example.org', [['/admin/directory', 'admin-directory']]);
    console.log(`Screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    relay.child.kill('SIGTERM');
    await relay.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signIn(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button:has-text("Sign in")');
  await page.waitForLoadState();
}

/** Two Birmingham referrals and one nobody can route, so every page has something to show. */
async function raiseSamples(base: string, key: string): Promise<string[]> {
  const occurredAt = new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const sample = exampleReferral();
  const bodies = [
    exampleReferral({
      source: { system: 'demo-epcr', reference: 'SHOT-1' },
      incident: { ...sample.incident, occurredAt },
    }),
    exampleReferral({
      source: { system: 'demo-epcr', reference: 'SHOT-2' },
      urgency: 'immediate',
      householdChildren: 2,
      categories: ['domestic-abuse', 'psychological'],
      incident: { ...sample.incident, occurredAt },
    }),
    exampleReferral({
      source: { system: 'demo-epcr', reference: 'SHOT-3' },
      incident: { ...sample.incident, occurredAt, location: { postcode: 'SW1A 2AA' } },
      subject: {
        ...sample.subject,
        address: { line1: '1 High Street', town: 'London', postcode: 'SW1A 1AA' },
      },
    }),
  ];
  const ids: string[] = [];
  for (const body of bodies) {
    const response = await fetch(`${base}/api/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

await main();
