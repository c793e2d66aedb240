import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A small cookie-keeping browser over app.inject: it remembers cookies and the last CSRF token it
 * saw in a form, and posts forms with it, as a person's browser would.
 */
export function formSession(app: FastifyInstance) {
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
  return {
    cookie: (name: string) => cookies.get(name),
    async get(url: string) {
      return remember(await app.inject({ method: 'GET', url, headers: { cookie: header() } }));
    },
    async post(url: string, form: Record<string, string>, options: { csrf?: boolean } = {}) {
      const body = new URLSearchParams({
        ...(options.csrf === false || !csrf ? {} : { _csrf: csrf }),
        ...form,
      });
      return remember(
        await app.inject({
          method: 'POST',
          url,
          payload: body.toString(),
          headers: { cookie: header(), 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
    },
  };
}
