import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { createAckToken } from '../../src/records/ack-token.ts';
import { DAY } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, TEST_SECRET, type TestRelay } from '../helpers/relay.ts';
import { ackLinkClient, PERSONAL } from './ack-link.helpers.ts';

describeEachDialect('acknowledge link pages', (dialect) => {
  let relay: TestRelay;
  const START = '2026-11-25T11:00:00Z';

  before(async () => (relay = await createTestRelay(dialect, { now: START })));
  after(async () => relay.close());

  const { db, raise, openForm, submit, snapshot } = ackLinkClient(() => relay);

  it('GET shows the referral without personal data, and changes nothing', async () => {
    const { reference, url } = await raise();
    const before = await snapshot();
    const { page } = await openForm(url);
    assert.deepEqual(await snapshot(), before, 'a GET (a mail scanner) must not acknowledge');
    assert.match(page.headers['content-type'] as string, /text\/html/);
    for (const expected of [
      reference,
      'Birmingham',
      'Urgent',
      'Safeguarding (adult)',
      '25 Nov 2026, 11:00',
      '25 Nov 2026, 15:00',
      'Your full name',
      'nhsuk-summary-list',
      'nhsuk-button',
      'method="post"',
      `action="${url}"`,
    ]) {
      assert.ok(page.body.includes(expected), `page shows ${expected}`);
    }
    for (const personal of PERSONAL)
      assert.equal(page.body.includes(personal), false, `page leaks ${personal}`);
  });

  it('POST without a CSRF token answers 403 and changes nothing', async () => {
    const { url } = await raise();
    const { cookies } = await openForm(url);
    const before = await snapshot();
    const noToken = await submit(url, { fullName: 'Sam Patel' }, cookies);
    assert.equal(noToken.statusCode, 403);
    assert.match(noToken.headers['content-type'] as string, /text\/html/);
    assert.match(noToken.body, /Nothing has been acknowledged/);
    const noCookie = await submit(url, { fullName: 'Sam Patel', _csrf: 'forged' });
    assert.equal(noCookie.statusCode, 403);
    const wrong = await submit(url, { fullName: 'Sam Patel', _csrf: 'forged' }, cookies);
    assert.equal(wrong.statusCode, 403);
    assert.deepEqual(await snapshot(), before);
  });

  it('POST without a name re-renders the form with 422 and NHS error messages', async () => {
    const { url, reference } = await raise();
    const { csrf, cookies } = await openForm(url);
    const before = await snapshot();
    const response = await submit(url, { fullName: '   ', role: 'Duty social worker', _csrf: csrf }, cookies);
    assert.equal(response.statusCode, 422);
    assert.match(response.body, /nhsuk-error-summary/);
    assert.match(response.body, /nhsuk-error-message/);
    assert.match(response.body, /Enter your full name/);
    assert.match(response.body, /href="#full-name"/);
    assert.ok(response.body.includes('value="Duty social worker"'), 'keeps what was typed');
    assert.ok(response.body.includes(reference));
    assert.deepEqual(await snapshot(), before);
  });

  it('POST acknowledges the route, and a second POST is a no-op that says so', async () => {
    const { id, reference, route, delivery, url } = await raise();
    const { csrf, cookies } = await openForm(url);
    const response = await submit(
      url,
      { fullName: 'Sam Patel', role: 'Duty social worker', _csrf: csrf },
      cookies,
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.match(response.body, /nhsuk-panel/);
    assert.ok(response.body.includes(`Referral ${reference} acknowledged`));
    const now = relay.clock.now().toISOString();

    const routeRow = await db()
      .selectFrom('routes')
      .selectAll()
      .where('id', '=', route.id)
      .executeTakeFirstOrThrow();
    assert.equal(routeRow.acknowledged_at, now);
    const acks = await db()
      .selectFrom('acknowledgements')
      .selectAll()
      .where('route_id', '=', route.id)
      .execute();
    assert.equal(acks.length, 1);
    assert.equal(acks[0]?.method, 'link');
    assert.equal(acks[0]?.by_name, 'Sam Patel (Duty social worker)');
    assert.equal(acks[0]?.delivery_id, delivery.id);
    const deliveryRow = await db()
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', delivery.id)
      .executeTakeFirstOrThrow();
    assert.equal(deliveryRow.state, 'acknowledged');
    const referral = await db()
      .selectFrom('referrals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(referral.status, 'acknowledged');
    const audit = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'route.acknowledged')
      .where('entity_id', '=', route.id)
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, `ack-link:${delivery.id}`);
    assert.equal(audit[0]?.detail.includes('Sam Patel'), false, 'no names in the audit log');

    relay.clock.advance(60_000);
    const before = await snapshot();
    const again = await submit(url, { fullName: 'Someone Else', _csrf: csrf }, cookies);
    assert.equal(again.statusCode, 200);
    assert.match(again.body, /already been acknowledged/);
    assert.ok(again.body.includes('Sam Patel (Duty social worker)'));
    assert.ok(again.body.includes('25 Nov 2026, 11:'));
    assert.deepEqual(await snapshot(), before, 'a second acknowledgement changes nothing');
    const page = await relay.app.inject({ method: 'GET', url });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /already been acknowledged/);
    assert.match(page.body, /nothing more to do/);
    assert.equal(page.body.includes('name="_csrf"'), false, 'no form once acknowledged');
  });

  it('answers 400 for a tampered or malformed token, 404 for an unknown delivery, 410 once expired', async () => {
    const { delivery, url } = await raise();
    const token = url.slice('/ack/'.length);
    const [body, signature] = token.split('.') as [string, string];
    const flipped = `${body}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    const otherSecret = createAckToken(
      'another-secret-that-is-at-least-32-characters',
      randomUUID(),
      relay.clock.now(),
    );
    const before = await snapshot();
    for (const bad of [flipped, 'not-a-token', `${body}.${signature}.extra`, otherSecret]) {
      for (const method of ['GET', 'POST'] as const) {
        const response =
          method === 'GET'
            ? await relay.app.inject({ method, url: `/ack/${bad}` })
            : await (async () => {
                const { csrf, cookies } = await openForm(url);
                return submit(`/ack/${bad}`, { fullName: 'Sam Patel', _csrf: csrf }, cookies);
              })();
        assert.equal(response.statusCode, 400, `${method} ${bad}`);
        assert.match(response.body, /This link is not valid/);
      }
    }
    const unknown = createAckToken(TEST_SECRET, randomUUID(), relay.clock.now());
    const missing = await relay.app.inject({ method: 'GET', url: `/ack/${unknown}` });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /cannot find/);

    const { csrf, cookies } = await openForm(url);
    relay.clock.advance(31 * DAY);
    try {
      const expired = await relay.app.inject({ method: 'GET', url });
      assert.equal(expired.statusCode, 410);
      assert.match(expired.body, /expired/);
      assert.match(expired.body, /portal/);
      assert.match(expired.body, /call/);
      const post = await submit(url, { fullName: 'Sam Patel', _csrf: csrf }, cookies);
      assert.equal(post.statusCode, 410);
    } finally {
      relay.clock.set(START);
    }
    assert.deepEqual(await snapshot(), before);
    assert.equal(
      (
        await db()
          .selectFrom('deliveries')
          .select('state')
          .where('id', '=', delivery.id)
          .executeTakeFirstOrThrow()
      ).state,
      'queued',
    );
  });

  it('answers a draining node with a 503 page, not JSON', async () => {
    const { url } = await raise();
    relay.ctx.lifecycle.draining = true;
    try {
      const response = await relay.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 503);
      assert.match(response.headers['content-type'] as string, /text\/html/);
      assert.ok(response.headers['retry-after']);
      assert.match(response.body, /Nothing has been acknowledged/);
    } finally {
      relay.ctx.lifecycle.draining = false;
    }
  });
});
