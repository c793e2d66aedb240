import assert from 'node:assert/strict';
import { createAckToken } from '../../src/records/ack-token.ts';
import { TEST_SECRET, type TestRelay } from '../helpers/relay.ts';
import { raise as raiseReferral } from '../helpers/referrals.ts';

let counter = 0;

/** What the subject's personal data looks like in the example referral: none of it may reach the page. */
export const PERSONAL = [
  'Edna',
  'Whitfield',
  '943 476 5919',
  '9434765919',
  'B15 2TT',
  'Elmdon',
  'pension',
  'Nephew',
];

/**
 * A referral to raise, and the page requests a browser makes, against the suite's test Relay:
 * `current` is read at each call, so a suite makes the client before its `before` hook makes the Relay.
 */
export function ackLinkClient(current: () => TestRelay) {
  const db = () => current().ctx.db.kysely;
  /** A Birmingham adult referral: one route, one queued email delivery. */
  async function raise() {
    counter += 1;
    const { id, reference } = await raiseReferral(current(), {
      source: { system: 'test-epcr', reference: `ACK-LINK-${process.pid}-${counter}` },
    });
    const doc = { id, reference };
    const route = await db()
      .selectFrom('routes')
      .selectAll()
      .where('referral_id', '=', doc.id)
      .executeTakeFirstOrThrow();
    const delivery = await db()
      .selectFrom('deliveries')
      .selectAll()
      .where('route_id', '=', route.id)
      .where('channel', '=', 'email')
      .executeTakeFirstOrThrow();
    const token = createAckToken(TEST_SECRET, delivery.id, current().clock.now());
    return { ...doc, route, delivery, url: `/ack/${token}` };
  }

  /** Every row an acknowledgement could touch, to prove that a request changed nothing. */
  async function snapshot() {
    return {
      referrals: await db().selectFrom('referrals').selectAll().orderBy('id').execute(),
      routes: await db().selectFrom('routes').selectAll().orderBy('id').execute(),
      deliveries: await db().selectFrom('deliveries').selectAll().orderBy('id').execute(),
      acknowledgements: await db().selectFrom('acknowledgements').selectAll().orderBy('id').execute(),
      escalations: await db().selectFrom('escalations').selectAll().orderBy('id').execute(),
      events: await db().selectFrom('referral_events').selectAll().orderBy('id').execute(),
      audit: await db().selectFrom('audit_log').selectAll().orderBy('seq').execute(),
      testAlerts: await db().selectFrom('test_alerts').selectAll().orderBy('id').execute(),
    };
  }

  /** Opens the page as a browser would: the CSRF cookie and the form's hidden token. */
  async function openForm(url: string) {
    const page = await current().app.inject({ method: 'GET', url });
    assert.equal(page.statusCode, 200, page.body);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, 'the form carries a CSRF token');
    const cookie = page.cookies.find((c) => c.name === '_csrf');
    assert.ok(cookie, 'the page sets the CSRF cookie');
    return { page, csrf, cookies: { _csrf: cookie.value } };
  }

  async function submit(url: string, fields: Record<string, string>, cookies?: Record<string, string>) {
    return current().app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
      ...(cookies ? { cookies } : {}),
    });
  }

  return { db, raise, snapshot, openForm, submit };
}
