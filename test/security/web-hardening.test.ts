import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { textTable } from '../../src/delivery/messages/html.ts';
import { loggableUrl } from '../../src/http/request-log.ts';
import { createUser } from '../../src/access/user.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

/** Issue 14, finding 8: redirects after sign-in, CSRF rotation, caching, request logs, email lines. */
const PASSWORD = 'a long and unusual passphrase';

describeEachDialect('web hardening', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { email: 'crew@example.org', roles: ['crew'], password: PASSWORD },
      'test',
      () => true,
    );
  });
  after(async () => relay.close());

  async function landing(next: string) {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const response = await relay.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `_csrf=${browser.cookie('_csrf')}`,
      },
      payload: new URLSearchParams({
        _csrf: /name="_csrf" value="([^"]+)"/.exec((await browser.get('/sign-in')).body)?.[1] ?? '',
        email: 'crew@example.org',
        password: PASSWORD,
        next,
      }).toString(),
    });
    return response;
  }

  it('keeps `next` on BASE_URL: other hosts go to /, odd characters are encoded, never a 500', async () => {
    const cases: [string, string][] = [
      ['/\\evil.example', '/'],
      ['//evil.example/x', '/'],
      ['/\\/evil.example', '/'],
      ['https://evil.example/', '/'],
      ['/\u3000x', '/%E3%80%80x'],
      ['/crew/referrals?view=mine', '/crew/referrals?view=mine'],
    ];
    for (const [next, location] of cases) {
      const response = await landing(next);
      assert.equal(response.statusCode, 303, `${JSON.stringify(next)}: ${response.body.slice(0, 200)}`);
      assert.equal(response.headers.location, location, JSON.stringify(next));
    }
    const page = await relay.app.inject({
      method: 'GET',
      url: `/sign-in?next=${encodeURIComponent('/\\evil.example')}`,
    });
    assert.match(page.body, /name="next" value="\/"/);
  });

  it('rotates the CSRF secret at sign-in: a token from before no longer works', async () => {
    const browser = formSession(relay.app);
    const page = await browser.get('/sign-in');
    const before = browser.cookie('_csrf');
    const oldToken = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    assert.equal(
      (await browser.post('/sign-in', { email: 'crew@example.org', password: PASSWORD })).statusCode,
      303,
    );
    assert.ok(browser.cookie('_csrf'));
    assert.notEqual(browser.cookie('_csrf'), before, 'a new secret');
    const stale = await browser.post('/sign-out', { _csrf: oldToken });
    assert.equal(stale.statusCode, 403, 'the token from before sign-in is refused');
    await browser.get('/crew/referrals');
    assert.equal((await browser.post('/sign-out', {})).statusCode, 303, 'a token from after it works');
  });

  it('lets no HTML page be stored', async () => {
    const browser = formSession(relay.app);
    const signIn = await browser.get('/sign-in');
    assert.equal(signIn.headers['cache-control'], 'no-store');
    await browser.post('/sign-in', { email: 'crew@example.org', password: PASSWORD });
    const mine = await browser.get('/crew/referrals');
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.headers['cache-control'], 'no-store');
    const missing = await browser.get('/crew/referrals/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.headers['cache-control'], 'no-store');
  });
});

describe('security headers', () => {
  let plain: TestRelay;
  let https: TestRelay;
  before(async () => {
    plain = await createTestRelay('sqlite');
    https = await createTestRelay('sqlite', { env: { BASE_URL: 'https://relay.example.org' } });
  });
  after(async () => {
    await plain.close();
    await https.close();
  });

  it('sends a CSP without inline script, no framing, nosniff and no Referer, on pages and the API', async () => {
    for (const url of ['/sign-in', '/api/v1/referrals', '/healthz']) {
      const response = await plain.app.inject({ method: 'GET', url });
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['x-frame-options'], 'DENY', url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(response.headers['strict-transport-security'], undefined, `${url}: no HSTS over http`);
    }
    const hsts = await https.app.inject({ method: 'GET', url: '/sign-in' });
    assert.match(String(hsts.headers['strict-transport-security']), /max-age=31536000/);
  });

  it('has no inline script in its pages; the js-enabled script is a file', async () => {
    const page = await plain.app.inject({ method: 'GET', url: '/sign-in' });
    const scripts = page.body.match(/<script[^>]*>/g) ?? [];
    assert.ok(scripts.length > 0);
    for (const tag of scripts) assert.match(tag, /\ssrc="\/assets\//, tag);
    assert.doesNotMatch(page.body, /<script[^>]*>[^<]+<\/script>/, 'no script body in the page');
    const file = await plain.app.inject({ method: 'GET', url: '/assets/relay/js-enabled.js' });
    assert.equal(file.statusCode, 200);
    assert.match(file.body, /js-enabled/);
  });
});

describe('what request logs and plain-text emails show', () => {
  it('logs acknowledge links without their token, and no query string', () => {
    assert.equal(loggableUrl('/ack/eyJhbGciOi.abc-def_ghi'), '/ack/[token]');
    assert.equal(loggableUrl('/ack/eyJhbGciOi.abc?x=1'), '/ack/[token]?[redacted]');
    assert.equal(loggableUrl('/safeguarding/search?q=Whitfield'), '/safeguarding/search?[redacted]');
    assert.equal(loggableUrl('/api/v1/referrals/SR-2026-000001'), '/api/v1/referrals/SR-2026-000001');
  });

  it('cannot forge a line of the plain-text email from a value', () => {
    const text = textTable([
      ['Name', 'Edna\r\nAcknowledge receipt: https://evil.example/ack'],
      ['Concern', 'Cold.\nNo food.\u2028Open in the portal: https://evil.example\u0007'],
    ]);
    const lines = text.split('\n');
    assert.deepEqual(lines, [
      'Name: Edna',
      '    Acknowledge receipt: https://evil.example/ack',
      'Concern: Cold.',
      '    No food.',
      '    Open in the portal: https://evil.example',
    ]);
  });
});
