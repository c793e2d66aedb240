import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createUser, type Role, type User } from '../../src/access/user.service.ts';
import type { TestRelay } from './relay.ts';

/** The password every test account is made with. */
export const PASSWORD = 'correct horse battery staple';

/**
 * A small cookie-keeping browser over app.inject: it remembers cookies and the last CSRF token it
 * saw in a form, and posts forms with it, as a person's browser would.
 */
export function formSession(app: FastifyInstance, options: { remoteAddress?: string } = {}) {
  const from = options.remoteAddress ? { remoteAddress: options.remoteAddress } : {};
  const cookies = new Map<string, string>();
  let csrf: string | undefined;
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (response: LightMyRequestResponse) => {
    for (const c of response.cookies) {
      if (c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0)) cookies.delete(c.name);
      else cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) csrf = token;
    return response;
  };
  const get = async (url: string) =>
    remember(await app.inject({ method: 'GET', url, headers: { cookie: header() }, ...from }));
  /**
   * Signing in rotates the CSRF secret, so a browser's next form carries a token from the page it
   * lands on: follow the sign-in's redirects (a few hops at most) as a browser would.
   */
  const land = async (response: LightMyRequestResponse) => {
    let next = response;
    for (let hop = 0; hop < 3 && next.statusCode === 303 && next.headers.location; hop += 1) {
      next = await get(String(next.headers.location));
    }
  };
  return {
    cookie: (name: string) => cookies.get(name),
    get,
    async post(url: string, form: Record<string, string>, options: { csrf?: boolean } = {}) {
      const body = new URLSearchParams({
        ...(options.csrf === false || !csrf ? {} : { _csrf: csrf }),
        ...form,
      });
      const response = remember(
        await app.inject({
          method: 'POST',
          url,
          payload: body.toString(),
          headers: { cookie: header(), 'content-type': 'application/x-www-form-urlencoded' },
          ...from,
        }),
      );
      if (url === '/sign-in' && response.statusCode === 303) await land(response);
      return response;
    },
  };
}

export type Browser = ReturnType<typeof formSession>;

/** What signing in needs of a browser: the form page, then the form. */
interface SignInBrowser {
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, form: Record<string, string>): Promise<LightMyRequestResponse>;
}

/**
 * Signs an existing person in through the real sign-in form, in `browser` (a fresh `formSession` by
 * default), and asserts it worked. The form is rate limited per address: sign each person in once
 * per file and keep the browser.
 */
export async function signIn(
  app: FastifyInstance,
  email: string,
  options?: { password?: string },
): Promise<Browser>;
export async function signIn<B extends SignInBrowser>(
  app: FastifyInstance,
  email: string,
  options: { password?: string; browser: B },
): Promise<B>;
export async function signIn(
  app: FastifyInstance,
  email: string,
  options: { password?: string; browser?: SignInBrowser } = {},
): Promise<SignInBrowser> {
  const browser = options.browser ?? formSession(app);
  await browser.get('/sign-in');
  const response = await browser.post('/sign-in', { email, password: options.password ?? PASSWORD });
  assert.equal(response.statusCode, 303, `${email} signs in`);
  return browser;
}

let people = 0;

/** Who to make: roles always; a unique address, a name from it and the usual team otherwise. */
interface Person {
  roles: Role[];
  email?: string;
  name?: string;
  teams?: string[];
}

/**
 * A new person with these roles, made directly with PASSWORD (the admin pages' own creation is
 * tested apart), and a browser signed in as them. A recipient belongs to birmingham-adults unless
 * `teams` says otherwise; the address is unique unless `email` names one.
 */
export async function signedIn(relay: TestRelay, person: Person): Promise<{ browser: Browser; user: User }>;
export async function signedIn<B extends SignInBrowser>(
  relay: TestRelay,
  person: Person,
  browser: B,
): Promise<{ browser: B; user: User }>;
export async function signedIn(
  relay: TestRelay,
  person: Person,
  browser?: SignInBrowser,
): Promise<{ browser: SignInBrowser; user: User }> {
  people += 1;
  const email = person.email ?? `person-${process.pid}-${people}@example.org`;
  const teams = person.teams ?? (person.roles.includes('recipient') ? ['birmingham-adults'] : []);
  const name = person.name ?? email.split('@')[0] ?? email;
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    { email, name, roles: person.roles, teams, password: PASSWORD },
    'test',
    () => true,
  );
  return { browser: await signIn(relay.app, email, { browser: browser ?? formSession(relay.app) }), user };
}
