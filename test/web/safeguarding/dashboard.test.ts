import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { acknowledgeForTeam } from '../../../src/response/acknowledgement.service.ts';
import { closeReferral } from '../../../src/referrals/close.service.ts';
import { transitionDelivery } from '../../../src/records/delivery.transitions.ts';
import { DAY, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { countIn, outsideCoverage, tableIn } from './helpers.ts';
import { signedIn } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

describeEachDialect('safeguarding dashboard', (dialect) => {
  let relay: TestRelay;
  let html: string;
  let first: { id: string; reference: string };
  before(async () => {
    relay = await createTestRelay(dialect);
    first = await raise(relay);
    relay.clock.advance(10 * MINUTE);
    const second = await raise(relay);
    await raise(relay, outsideCoverage());
    await failDelivery(relay, second.id);
    // The second referral's team acknowledges it 20 minutes after it was sent.
    relay.clock.advance(20 * MINUTE);
    await acknowledgeForTeam(relay.ctx, second.id, 'birmingham-adults', {
      method: 'phone',
      name: 'Duty worker',
      actor: 'test',
    });
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const response = await browser.get('/safeguarding');
    assert.equal(response.statusCode, 200);
    html = response.body;
  });
  after(async () => relay.close());

  it('counts open referrals by status and open deliveries by state', () => {
    assert.equal(countIn(html, 'Open referrals by status', 'In triage'), 1);
    assert.equal(countIn(html, 'Open referrals by status', 'Routed, not yet sent'), 1);
    assert.equal(countIn(html, 'Open referrals by status', 'Escalated'), 0);
    assert.equal(countIn(html, 'Open deliveries by state', 'Queued'), 1);
    assert.match(html, /href="\/safeguarding\/search\?status=triage"/);
    assert.doesNotMatch(
      tableIn(html, 'Open referrals by status'),
      /Acknowledged|Closed/,
      'finished statuses are not open work',
    );
  });

  it('counts finished work of the last 30 days, linked to the same period in search', () => {
    assert.match(html, /<h2 class="nhsuk-heading-m">Finished in the last 30 days<\/h2>/);
    assert.match(html, /from Tue 27 Oct onwards \(London time\)/);
    assert.equal(countIn(html, 'Finished referrals, last 30 days', 'Acknowledged'), 1);
    assert.equal(countIn(html, 'Finished referrals, last 30 days', 'Closed'), 0);
    assert.match(
      tableIn(html, 'Finished referrals, last 30 days'),
      /href="\/safeguarding\/search\?status=acknowledged&amp;from=2026-10-27"/,
    );
    assert.equal(
      countIn(html, 'Finished deliveries, last 30 days', 'Acknowledged'),
      1,
      'the failed copy, acknowledged by phone',
    );
    assert.doesNotMatch(
      tableIn(html, 'Finished deliveries, last 30 days'),
      />\s*Sent\b/,
      'sent is open work',
    );
  });

  it('shows a failed delivery as needing attention until the team acknowledges', async () => {
    const other = await raise(relay);
    await failDelivery(relay, other.id);
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const page = (await browser.get('/safeguarding')).body;
    assert.equal(countIn(page, 'Open deliveries by state', 'Failed'), 1);
    assert.match(
      tableIn(page, 'Open deliveries by state'),
      /Failed\s*<strong class="nhsuk-tag nhsuk-tag--red">\s*Needs attention/,
    );
  });

  it('links the open escalations and the triage queue with their sizes', () => {
    assert.match(
      html,
      /<a class="nhsuk-card__link" href="\/safeguarding\/escalations">0 open escalations<\/a>/,
    );
    assert.match(
      html,
      /<a class="nhsuk-card__link" href="\/safeguarding\/triage">1 in the triage queue<\/a>/,
    );
  });

  it('names the oldest unacknowledged referral, its team, its age and deadline', () => {
    const card = html.split('Oldest unacknowledged')[1]?.split('</li>')[0] ?? '';
    assert.match(
      card,
      new RegExp(
        `href="/safeguarding/referrals/${first.id}">${first.reference}</a> to Birmingham Adult Social Care Front Door`,
      ),
    );
    assert.match(card, /Waiting 30 min/);
    assert.match(card, /Deadline\s*Wed, 25 Nov 2026, 15:00/, 'urgent: four hours from receipt at 11:00');
  });

  it('publishes time to acknowledge per authority and per team', () => {
    const table = html.split('Time to acknowledge by authority')[1]?.split('</table>')[0] ?? '';
    const row =
      /<th scope="row"[^>]*><strong>Birmingham City Council<\/strong> \(all teams\)<\/th>([\s\S]*?)<\/tr>/.exec(
        table,
      )?.[1] ?? '';
    const cells = [
      ...row.matchAll(/<td[^>]*>(?:<span class="nhsuk-table__heading"[^>]*>[^<]*<\/span>)?([\s\S]*?)<\/td>/g),
    ].map((m) => m[1]?.trim());
    assert.deepEqual(cells, ['2', '1 (1 waiting)', '20 min', '20 min', '0']);
    const teams = [...table.matchAll(/<span class="nhsuk-u-visually-hidden">Team: <\/span>([^<]+)<\/th>/g)];
    assert.ok(
      teams.some((t) => t[1] === 'Birmingham Adult Social Care Front Door'),
      `a row per team: ${teams.map((t) => t[1]).join(', ')}`,
    );
  });

  it('draws daily volume as an accessible SVG with a data table as its text alternative', () => {
    assert.match(html, /<svg[^>]*role="img"[^>]*aria-labelledby="volume-title volume-desc"/);
    assert.match(html, /<title id="volume-title">Referrals received per day, last 28 days<\/title>/);
    assert.match(html, /<desc id="volume-desc">3 referrals from Thu 29 Oct to Wed 25 Nov\./);
    const table =
      /<table class="nhsuk-table nhsuk-u-visually-hidden" id="volume-table">([\s\S]*?)<\/table>/.exec(
        html,
      )?.[1] ?? '';
    assert.equal([...table.matchAll(/<th scope="row">/g)].length, 28);
    assert.match(table, /<th scope="row">Wed 25 Nov<\/th><td>3<\/td>/);
    assert.match(table, /<th scope="row">Tue 24 Nov<\/th><td>0<\/td>/);
  });
});

describeEachDialect('safeguarding dashboard over time', (dialect) => {
  let relay: TestRelay;
  after(async () => relay.close());

  it('keeps counting open work however old, and finished work only for the last 30 days', async () => {
    relay = await createTestRelay(dialect);
    const waiting = await raise(relay);
    const finishedLongAgo = await raise(relay);
    await acknowledgeForTeam(relay.ctx, finishedLongAgo.id, 'birmingham-adults', ACK);
    relay.clock.advance(31 * DAY);
    const finishedToday = await raise(relay);
    await acknowledgeForTeam(relay.ctx, finishedToday.id, 'birmingham-adults', ACK);

    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const html = (await browser.get('/safeguarding')).body;
    assert.equal(
      countIn(html, 'Open referrals by status', 'Routed, not yet sent'),
      1,
      'a month old, still open',
    );
    assert.equal(countIn(html, 'Open deliveries by state', 'Queued'), 1);
    assert.equal(countIn(html, 'Finished referrals, last 30 days', 'Acknowledged'), 1, 'today only');
    assert.equal(countIn(html, 'Finished deliveries, last 30 days', 'Acknowledged'), 1);
    assert.match(html, /from Fri 27 Nov onwards \(London time\)/);

    // The count's link lists the same referrals.
    const list = (await browser.get('/safeguarding/search?status=acknowledged&from=2026-11-27')).body;
    assert.match(list, new RegExp(finishedToday.reference));
    assert.doesNotMatch(list, new RegExp(finishedLongAgo.reference));
    assert.doesNotMatch(list, new RegExp(waiting.reference));
  });
});

describeEachDialect('safeguarding dashboard, time to acknowledge', (dialect) => {
  let relay: TestRelay;
  after(async () => relay.close());

  it('ranks the times teams took (nearest rank) and counts deadlines missed', async () => {
    relay = await createTestRelay(dialect);
    // Four urgent referrals sent together (deadline four hours later), acknowledged after 10 min,
    // 20 min and 5 h; the fourth never is.
    const sent = [await raise(relay), await raise(relay), await raise(relay), await raise(relay)];
    for (const [minutes, referral] of [
      [10, sent[0]],
      [10, sent[1]],
      [280, sent[2]],
    ] as const) {
      relay.clock.advance(minutes * MINUTE);
      await acknowledgeForTeam(relay.ctx, referral!.id, 'birmingham-adults', ACK);
    }

    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const html = (await browser.get('/safeguarding')).body;
    const table = tableIn(html, 'Time to acknowledge by authority and team, last 30 days');
    const row =
      /<th scope="row"[^>]*><strong>Birmingham City Council<\/strong> \(all teams\)<\/th>([\s\S]*?)<\/tr>/.exec(
        table,
      )?.[1] ?? '';
    const cells = [
      ...row.matchAll(/<td[^>]*>(?:<span class="nhsuk-table__heading"[^>]*>[^<]*<\/span>)?([\s\S]*?)<\/td>/g),
    ].map((m) => m[1]?.trim());
    // Median: rank ⌈0.5 × 3⌉ = 2 of (10 min, 20 min, 5 h); 90th percentile: rank ⌈0.9 × 3⌉ = 3.
    // Past deadline: the one acknowledged after four hours and the one still waiting.
    assert.deepEqual(cells, ['4', '3', '20 min', '5 h', '<strong>2</strong>']);
  });
});

describeEachDialect('safeguarding dashboard, sent is not done', (dialect) => {
  let relay: TestRelay;
  after(async () => relay.close());

  it('counts a sent copy as open until acknowledged, and a closed referral’s failed copy as finished', async () => {
    relay = await createTestRelay(dialect);
    const sent = await raise(relay);
    await sendDelivery(relay, sent.id, 'sent');
    const failedThenClosed = await raise(relay);
    await sendDelivery(relay, failedThenClosed.id, 'failed');
    await closeReferral(relay.ctx, failedThenClosed.id, 'A duplicate of another referral', {
      name: 'Sam Safeguarding',
      actor: 'test',
    });

    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    let html = (await browser.get('/safeguarding')).body;
    assert.equal(countIn(html, 'Open deliveries by state', 'Sent, not yet acknowledged'), 1);
    assert.equal(countIn(html, 'Open deliveries by state', 'Failed'), 0, 'its referral is closed');
    assert.doesNotMatch(tableIn(html, 'Finished deliveries, last 30 days'), />\s*Sent\b/);
    assert.equal(
      countIn(html, 'Finished deliveries, last 30 days', 'Not acknowledged by this copy'),
      1,
      'the closed referral’s failed copy',
    );

    await acknowledgeForTeam(relay.ctx, sent.id, 'birmingham-adults', ACK);
    html = (await browser.get('/safeguarding')).body;
    assert.equal(countIn(html, 'Open deliveries by state', 'Sent, not yet acknowledged'), 0);
    assert.equal(countIn(html, 'Finished deliveries, last 30 days', 'Acknowledged'), 1);
  });
});

const ACK = { method: 'phone', name: 'Duty worker', actor: 'test' } as const;

/** The delivery's worker claims it and the SMTP server refuses it for good: sending, then failed. */
async function failDelivery(relay: TestRelay, referralId: string): Promise<void> {
  await sendDelivery(relay, referralId, 'failed');
}

/** The delivery's worker claims it and the SMTP server takes it (sent) or refuses it for good (failed). */
async function sendDelivery(relay: TestRelay, referralId: string, to: 'sent' | 'failed'): Promise<void> {
  const db = relay.ctx.db.kysely;
  const delivery = await db
    .selectFrom('deliveries')
    .select('id')
    .where('referral_id', '=', referralId)
    .executeTakeFirstOrThrow();
  const now = relay.clock.now();
  await db.transaction().execute(async (trx) => {
    await transitionDelivery(trx, { deliveryId: delivery.id, to: 'sending', now, actor: 'test' });
    await transitionDelivery(trx, {
      deliveryId: delivery.id,
      to,
      now,
      actor: 'test',
      set: to === 'failed' ? { last_error: '550 5.1.1 mailbox unknown' } : { sent_at: now.toISOString() },
    });
  });
}
