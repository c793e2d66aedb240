import { readFileSync } from 'node:fs';
import { createUser, type Role } from '../../../src/access/user.service.ts';
import type { Dialect } from '../../../src/db/database.ts';
import type { DirectoryFileInput } from '../../../src/directory/directory.schema.ts';
import { DEMO_DIRECTORY_PATH } from '../../../src/directory/directory.service.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { PASSWORD, signIn, type Browser } from '../../helpers/web.ts';

export interface AdminRelay {
  relay: TestRelay;
  /** The admin, signed in. */
  admin: Browser;
  adminId: string;
}

/** What every admin page's tests start from: a Relay on a fresh database with one admin signed in. */
export async function startAdminRelay(dialect: Dialect, directory?: unknown): Promise<AdminRelay> {
  const relay = await createTestRelay(dialect, directory === undefined ? {} : { directory });
  const adminId = (await addUser(relay, 'admin@example.org', ['admin'])).id;
  return { relay, adminId, admin: await signIn(relay.app, 'admin@example.org') };
}

/** An account with a known password, made directly (the admin pages' own creation is tested apart). */
export async function addUser(relay: TestRelay, email: string, roles: Role[], teams: string[] = []) {
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { email, name: email.split('@')[0], roles, teams, password: PASSWORD },
    'test',
    () => true,
  );
  return user;
}

/** The error message the NHS macros put beside a field (`<id>-error`), as plain text. */
export function fieldError(html: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}-error"[^>]*>\\s*<span[^>]*>[^<]*</span>([^<]*)</span>`).exec(html);
  return match?.[1]?.replace(/\s+/g, ' ').trim();
}

export async function countRows(
  relay: TestRelay,
  table: 'users' | 'directory_versions' | 'api_keys' | 'audit_log',
) {
  const row = await relay.ctx.db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Posts a form with repeated fields (checkboxes), which formSession's plain object cannot carry,
 * using the browser's cookies and the CSRF token from a page it just fetched.
 */
export async function postPairs(
  relay: TestRelay,
  browser: Browser,
  page: string,
  url: string,
  pairs: [string, string][],
) {
  const html = (await browser.get(page)).body;
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookie = ['relay_session', '_csrf'].map((name) => `${name}=${browser.cookie(name) ?? ''}`).join('; ');
  return relay.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams([['_csrf', token], ...pairs]).toString(),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** The demo directory file, read afresh so a test can change its copy. */
export function demoDirectoryFile(): DirectoryFileInput {
  return JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as DirectoryFileInput;
}

/** A page's text as read, without the column names responsive tables repeat in every cell for small screens. */
export function pageText(html: string): string {
  return html
    .replace(/<span class="nhsuk-table__heading"[^>]*>[^<]*<\/span>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

/** The edit form as the page fills it for the demo's Birmingham adults team, ready to change. */
export function birminghamForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    emailDetail: 'full',
    'addresses-0-role': 'primary',
    'addresses-0-address': 'adults.birmingham@example.org',
    'addresses-0-owner': 'Alex Example',
    'addresses-0-verifyBy': '2027-01-01',
    'addresses-1-role': 'secondary',
    'addresses-1-address': 'adults.birmingham.duty@example.org',
    'addresses-1-owner': 'Priya Fictional',
    'addresses-1-verifyBy': '2027-02-08',
    'addresses-2-role': 'secondary',
    'addresses-2-address': '',
    'addresses-2-owner': '',
    'addresses-2-verifyBy': '',
    'phones-0-label': 'Duty desk',
    'phones-0-number': '01632 960100',
    'phones-1-label': 'Team manager',
    'phones-1-number': '01632 960101',
    ...Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri'].flatMap((d) => [
        [`hours-${d}-open`, '08:30'],
        [`hours-${d}-close`, '17:00'],
      ]),
    ),
    'hours-sat-open': '09:00',
    'hours-sat-close': '13:00',
    'hours-sun-open': '',
    'hours-sun-close': '',
    ...overrides,
  };
}
