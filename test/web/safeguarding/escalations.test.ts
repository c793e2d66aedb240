import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEscalation } from '../../../src/records/escalation.service.ts';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { DIALECTS } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { raise, signedIn } from './helpers.ts';
import type { EscalationReason } from '../../../src/db/codes.ts';

for (const dialect of DIALECTS) {
  describe(`safeguarding escalations pages [${dialect}]`, () => {
    let relay: TestRelay;
    let browser: Awaited<ReturnType<typeof signedIn>>;
    let referral: { id: string; reference: string };
    const db = () => relay.ctx.db.kysely;
    const escalation = (reason: EscalationReason) =>
      db()
        .selectFrom('escalations')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .where('reason', '=', reason)
        .executeTakeFirstOrThrow();

    before(async () => {
      relay = await createTestRelay(dialect);
      referral = await raise(relay);
      // Nothing was sent and nobody acknowledged: past the urgent four-hour deadline, the watchdog escalates.
      relay.clock.advance(4 * HOUR + MINUTE);
      await sweep(relay.ctx);
      browser = await signedIn(relay, ['safeguarding'], 'Sam Safeguarding');
    });
    after(async () => relay.close());

    it('lists open escalations oldest first, with the team to phone as tel: links', async () => {
      relay.clock.advance(MINUTE);
      await db()
        .transaction()
        .execute((trx) =>
          openEscalation(
            trx,
            { referralId: null, teamId: null, reason: 'volume-drop', occasion: 'today' },
            relay.clock.now(),
          ),
        );
      const response = await browser.get('/safeguarding/escalations');
      assert.equal(response.statusCode, 200);
      const body = response.body;
      assert.match(
        body,
        new RegExp(`<a href="/safeguarding/referrals/${referral.id}">${referral.reference}</a>`),
      );
      assert.match(body, /Birmingham Adult Social Care Front Door/);
      assert.match(body, /Duty desk: <a href="tel:01632960100">01632 960100<\/a>/);
      assert.match(body, /Team manager: <a href="tel:01632960101">01632 960101<\/a>/);
      assert.match(body, /Not acknowledged by the deadline/);
      assert.match(body, /Not sent in time/);
      assert.match(body, /Far fewer referrals than usual/);
      assert.match(body, /Wed, 25 Nov 2026, 15:01/, 'opened, in London time');
      // Urgency, lateness against the deadline it is about, and each copy's channel and state.
      const card = body.split('id="escalation-').find((c) => c.includes('Not acknowledged by the deadline'));
      assert.match(card ?? '', /<strong class="nhsuk-tag nhsuk-tag--orange">\s*Urgent/);
      assert.match(card ?? '', /Overdue by 2 min/);
      assert.match(card ?? '', /Deadline Wed, 25 Nov 2026, 15:00/);
      assert.match(card ?? '', /Email: Queued/);
      const system = body.split('id="escalation-').find((c) => c.includes('Far fewer referrals'));
      assert.match(system ?? '', /Open for under 1 min/, 'no deadline of its own: how long it has been open');
      const order = ['Not sent in time', 'Far fewer referrals than usual'].map((t) => body.indexOf(t));
      assert.ok(order[0]! > 0 && order[1]! > order[0]!, 'the system escalation opened later comes after');
    });

    it('claims an escalation in the signed-in person’s name', async () => {
      const open = await escalation('not-acknowledged');
      const response = await browser.post(`/safeguarding/escalations/${open.id}/claim`, {});
      assert.equal(response.statusCode, 303);
      const claimed = await escalation('not-acknowledged');
      assert.equal(claimed.state, 'claimed');
      assert.equal(claimed.claimed_by, 'Sam Safeguarding');
      const list = await browser.get('/safeguarding/escalations');
      assert.match(list.body, /Sam Safeguarding/);
      const again = await browser.post(`/safeguarding/escalations/${open.id}/claim`, {});
      assert.equal(again.statusCode, 409);
      assert.match(again.body, /already claimed by Sam Safeguarding/);
    });

    it('refuses to resolve without a note, beside the field, and changes nothing', async () => {
      const claimed = await escalation('not-acknowledged');
      await browser.get(`/safeguarding/escalations/${claimed.id}/resolve`);
      const response = await browser.post(`/safeguarding/escalations/${claimed.id}/resolve`, {
        note: '  ',
        confirmedByPhone: 'yes',
        confirmedBy: '',
      });
      assert.equal(response.statusCode, 422);
      assert.match(response.body, /<title>Error: Resolve escalation/);
      assert.match(response.body, /nhsuk-error-summary/);
      assert.match(response.body, /href="#note">\s*Enter a note saying what was done/);
      assert.match(response.body, /id="note-error"/);
      assert.match(
        response.body,
        /href="#confirmed-by">\s*Enter the name of the person at the team who confirmed receipt/,
      );
      assert.match(response.body, /id="confirmed-by-error"/);
      const after = await escalation('not-acknowledged');
      assert.equal(after.state, 'claimed');
      assert.equal(after.note, null);
    });

    it('resolves with "receipt confirmed by phone": the note is kept and the team acknowledges by phone', async () => {
      const claimed = await escalation('not-acknowledged');
      await browser.get(`/safeguarding/escalations/${claimed.id}/resolve`);
      const response = await browser.post(`/safeguarding/escalations/${claimed.id}/resolve`, {
        note: 'Phoned the duty desk; they had missed the email and have it now.',
        confirmedByPhone: 'yes',
        confirmedBy: 'Jo Duty',
      });
      assert.equal(response.statusCode, 303, response.body);
      assert.equal(response.headers.location, `/safeguarding/escalations?resolved=${claimed.id}`);
      const resolved = await escalation('not-acknowledged');
      assert.equal(resolved.state, 'resolved');
      assert.equal(resolved.resolved_by, 'Sam Safeguarding');
      const note = unsealField(
        relay.ctx.config.dataKeys,
        PERSONAL_FIELDS.escalationNote,
        resolved.id,
        resolved.note,
      );
      assert.equal(note, 'Phoned the duty desk; they had missed the email and have it now.');
      const route = await db()
        .selectFrom('routes')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .executeTakeFirstOrThrow();
      assert.equal(route.acknowledged_at, relay.clock.now().toISOString());
      const acks = await db()
        .selectFrom('acknowledgements')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .execute();
      assert.equal(acks.length, 1);
      assert.equal(acks[0]!.method, 'phone');
      assert.equal(acks[0]!.by_name, 'Jo Duty');
      assert.equal(
        (await escalation('not-sent')).state,
        'resolved',
        "the team's other escalation closes with it",
      );
      const status = await db()
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', referral.id)
        .executeTakeFirstOrThrow();
      assert.equal(status.status, 'acknowledged');
      const page = await browser.get(response.headers.location as string);
      assert.match(page.body, new RegExp(`Escalation resolved for ${referral.reference}`));
    });

    it('lists what was resolved in the last seven days, with the note', async () => {
      const response = await browser.get('/safeguarding/escalations?view=resolved');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /aria-current="page">Resolved in the last 7 days/);
      assert.match(response.body, /Phoned the duty desk; they had missed the email and have it now\./);
      assert.match(response.body, /by Sam Safeguarding/);
      relay.clock.advance(8 * 24 * HOUR);
      browser = await signedIn(relay, ['safeguarding'], 'Sam Safeguarding');
      const later = await browser.get('/safeguarding/escalations?view=resolved');
      assert.doesNotMatch(later.body, /Phoned the duty desk/);
    });

    it('offers no phone confirmation for a system escalation, and still resolves it with a note', async () => {
      const row = await db()
        .selectFrom('escalations')
        .select('id')
        .where('reason', '=', 'volume-drop')
        .executeTakeFirstOrThrow();
      const form = await browser.get(`/safeguarding/escalations/${row.id}/resolve`);
      assert.doesNotMatch(form.body, /Receipt confirmed by phone/);
      const response = await browser.post(`/safeguarding/escalations/${row.id}/resolve`, {
        note: 'Checked with the ePCR supplier: a quiet day.',
      });
      assert.equal(response.statusCode, 303);
    });
  });
}
