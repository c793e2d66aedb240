import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

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
