import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { closeReferral } from '../../../src/referrals/close.service.ts';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { MINUTE } from '../../../src/time.ts';
import { DIALECTS } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { fieldError } from '../admin/admin.helpers.ts';
import { countIn, outsideCoverage, raise, signedIn } from './helpers.ts';

/** An out-of-area referral finished from triage without a team: handed off, or closed with a reason. */
for (const dialect of DIALECTS) {
  describe(`finishing a referral from triage [${dialect}]`, () => {
    let relay: TestRelay;
    let browser: Awaited<ReturnType<typeof signedIn>>;
    const db = () => relay.ctx.db.kysely;
    const triageItemOf = (referralId: string) =>
      db()
        .selectFrom('triage_items')
        .selectAll()
        .where('referral_id', '=', referralId)
        .executeTakeFirstOrThrow();
    const referralRow = (id: string) =>
      db().selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditOf = (id: string, action: string) =>
      db()
        .selectFrom('audit_log')
        .select(['detail', 'actor'])
        .where('entity_id', '=', id)
        .where('action', '=', action)
        .execute();

    before(async () => {
      relay = await createTestRelay(dialect);
    });
    after(async () => relay.close());

    it('hands it off to another area’s service, recording which and how, and closes it', async () => {
      const referral = await raise(relay, outsideCoverage());
      relay.clock.advance(31 * MINUTE);
      await sweep(relay.ctx);
      // Signed in after the clock moved, so the session has not timed out.
      browser = await signedIn(relay, ['safeguarding'], 'Sam Safeguarding');
      const item = await triageItemOf(referral.id);
      const page = await browser.get(`/safeguarding/triage/${item.id}`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Hand it to another area’s service/);
      assert.match(page.body, /Close it with a reason/);

      const incomplete = await browser.post(`/safeguarding/triage/${item.id}/hand-off`, {
        service: '',
        method: 'other',
      });
      assert.equal(incomplete.statusCode, 422);
      assert.match(fieldError(incomplete.body, 'service') ?? '', /Enter the service it was handed to/);
      assert.match(fieldError(incomplete.body, 'note') ?? '', /Enter how it was sent/);
      assert.equal((await triageItemOf(referral.id)).resolved_at, null, 'nothing changed');
      assert.equal((await referralRow(referral.id)).closed_at, null);

      const done = await browser.post(`/safeguarding/triage/${item.id}/hand-off`, {
        service: 'Westminster Adult Social Care Access Team',
        method: 'phone',
        note: 'Spoke to the duty worker; their reference WCC-123',
      });
      assert.equal(done.statusCode, 303);
      const queue = await browser.get(String(done.headers.location));
      assert.match(
        queue.body,
        new RegExp(
          `${referral.reference} has been recorded as handed off to Westminster Adult Social Care Access Team`,
        ),
      );
      const finished = await triageItemOf(referral.id);
      assert.equal(finished.outcome, 'handed-off');
      assert.equal(finished.handoff_service, 'Westminster Adult Social Care Access Team');
      assert.equal(finished.handoff_method, 'phone');
      const row = await referralRow(referral.id);
      assert.equal(row.status, 'closed');
      assert.equal(row.closed_by, 'Sam Safeguarding');
      assert.doesNotMatch(row.close_reason ?? '', /WCC-123/, 'the note is sealed');
      assert.equal(
        unsealField(relay.ctx.config.dataKeys, PERSONAL_FIELDS.closeReason, referral.id, row.close_reason),
        'Handed off to Westminster Adult Social Care Access Team: by phone. Spoke to the duty worker; their reference WCC-123',
      );
      const [audit] = await auditOf(referral.id, 'referral.closed');
      assert.deepEqual(JSON.parse(audit!.detail), {
        reference: referral.reference,
        reason: 'handed-off',
        by: 'Sam Safeguarding',
        service: 'Westminster Adult Social Care Access Team',
        method: 'phone',
        triage: item.id,
      });
      const open = await db()
        .selectFrom('escalations')
        .select('state')
        .where('referral_id', '=', referral.id)
        .where('state', '!=', 'resolved')
        .execute();
      assert.deepEqual(open, [], 'the triage-overdue escalation is resolved');
      const again = await browser.post(`/safeguarding/triage/${item.id}/close`, { reason: 'Twice' });
      assert.equal(again.statusCode, 409, 'finished once only');
    });

    it('closes it with a reason, refusing an empty one beside the field', async () => {
      const referral = await raise(relay, outsideCoverage());
      const item = await triageItemOf(referral.id);
      await browser.get(`/safeguarding/triage/${item.id}`);
      const empty = await browser.post(`/safeguarding/triage/${item.id}/close`, { reason: '' });
      assert.equal(empty.statusCode, 422);
      assert.match(fieldError(empty.body, 'reason') ?? '', /Enter why the referral is closed/);
      assert.equal((await referralRow(referral.id)).closed_at, null);

      const closed = await browser.post(`/safeguarding/triage/${item.id}/close`, {
        reason: 'A duplicate of a referral already routed',
      });
      assert.equal(closed.statusCode, 303);
      assert.equal((await triageItemOf(referral.id)).outcome, 'closed');
      assert.equal((await referralRow(referral.id)).status, 'closed');
      const [audit] = await auditOf(referral.id, 'referral.closed');
      assert.equal(JSON.parse(audit!.detail).reason, 'closed-by-hand');
      assert.doesNotMatch(audit!.detail, /duplicate/, 'the reason stays out of the audit log');
    });

    it('takes a referral closed from its own page out of the triage queue', async () => {
      const referral = await raise(relay, outsideCoverage());
      await closeReferral(relay.ctx, referral.id, 'Raised in error', {
        name: 'Sam Safeguarding',
        actor: 'test',
      });
      const item = await triageItemOf(referral.id);
      assert.ok(item.resolved_at);
      assert.equal(item.outcome, 'closed');
    });

    it('reports each way triage finished referrals on the dashboard', async () => {
      const html = (await browser.get('/safeguarding')).body;
      const caption = 'Finished from triage, last 30 days';
      assert.equal(countIn(html, caption, 'Handed off to another area’s service'), 1);
      assert.equal(countIn(html, caption, 'Closed with a reason'), 2);
      assert.equal(countIn(html, caption, 'Routed to a team by hand'), 0);
      assert.equal(countIn(html, 'Open deliveries by state', 'Queued'), 0);
    });
  });
}
