import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { formSession } from './web.ts';

/** Cookies of one site, by name, as a browser keeps them (paths are not needed by these tests). */
class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const expired = attributes.some(
        (a) =>
          /^max-age=(0|-)/i.test(a) || (/^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now()),
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/**
 * One person's browser between Relay (app.inject, at BASE_URL) and the test provider (real HTTP):
 * it keeps both sites' cookies and follows redirects across them, as a browser would.
 */
export function oidcBrowser(app: FastifyInstance, relayOrigin: string) {
  const relay = formSession(app);
  const provider = new CookieJar();

  /** Follows the provider's redirects until one leads back to Relay; returns that Relay URL. */
  async function atProvider(url: string, init: RequestInit = {}): Promise<string> {
    let next = url;
    let request = init;
    for (let hop = 0; hop < 10; hop += 1) {
      const response = await fetch(next, {
        ...request,
        redirect: 'manual',
        headers: { ...(request.headers as Record<string, string>), cookie: provider.header() },
      });
      provider.take(response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (!location)
        throw new Error(`the provider answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      next = new URL(location, next).href;
      if (next.startsWith(relayOrigin)) return next;
      request = {};
    }
    throw new Error('too many redirects at the provider');
  }

  /** A Relay path (from a full BASE_URL URL or a path). */
  const relayPath = (url: string) => (url.startsWith(relayOrigin) ? url.slice(relayOrigin.length) : url);

  return {
    relay,
    provider,
    /** Starts a sign-in at Relay and signs in at the provider; returns the callback URL, not yet visited. */
    async startSignIn(providerName: string, next = '/'): Promise<string> {
      const start = await relay.get(`/sign-in/oidc/${providerName}?next=${encodeURIComponent(next)}`);
      if (start.statusCode !== 303) throw new Error(`sign-in did not start: ${start.statusCode}`);
      return atProvider(String(start.headers.location));
    },
    /** Visits Relay's callback, as the provider's redirect would. */
    callback(url: string): Promise<LightMyRequestResponse> {
      return relay.get(relayPath(url));
    },
    async signIn(providerName: string, next = '/'): Promise<LightMyRequestResponse> {
      return this.callback(await this.startSignIn(providerName, next));
    },
    /** Follows a redirect to the provider's end-session page and confirms, as the person would. */
    async signOutAtProvider(endSessionUrl: string): Promise<string> {
      const page = await fetch(endSessionUrl, { headers: { cookie: provider.header() } });
      provider.take(page.headers.getSetCookie());
      const html = await page.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !xsrf) throw new Error(`no sign-out form at the provider: ${html.slice(0, 300)}`);
      return atProvider(new URL(action, endSessionUrl).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
      });
    },
  };
}
