import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { keyStatus } from '../../src/governance/keys.ts';
import { caseNotes, reviewCases } from '../../src/governance/review.queries.ts';
import { createReview, updateCase } from '../../src/governance/review.service.ts';
import { retentionJob } from '../../src/assurance/jobs/retention.job.ts';
import { DAY, MINUTE } from '../../src/time.ts';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { person, shaper } from './review.helpers.ts';

/** Issue 14: incident-review notes are sealed and purged like every other personal field. */

const FROM = '2026-11-10T00:00:00.000Z';
const TO = '2026-11-11T00:00:00.000Z';
const NOTE = 'Spoke to Mrs Example’s daughter on 01632 960999.';

for (const dialect of DIALECTS) {
  describe(`review notes at rest [${dialect}]`, () => {
    let relay: TestRelay;
    let reviewId: string;
    let caseId: string;
    let referralId: string;
    const db = () => relay.ctx.db.kysely;
    const storedNotes = () => db().selectFrom('review_notes').selectAll().orderBy('id').execute();

    before(async () => {
      relay = await createTestRelay(dialect);
      const shape = shaper(relay);
      const raised = await shape.raiseAt(new Date(Date.parse(FROM) + 600 * MINUTE).toISOString());
      referralId = raised.id;
      await shape.delivery(raised.id, { state: 'failed', sent_at: null });
      relay.clock.set('2026-11-25T11:00:00Z');
      const lead = await person(relay, ['safeguarding'], 'Lee Lead');
      const review = await createReview(
        relay.ctx,
        { title: 'Failed deliveries', from: FROM, to: TO, conditions: ['failed'] },
        lead.actor,
      );
      reviewId = review.id;
      const [only] = await reviewCases(db(), reviewId);
      assert.ok(only);
      caseId = only.id;
      await updateCase(relay.ctx, reviewId, caseId, { note: NOTE }, lead.actor);
    });
    after(async () => relay.close());

    it('stores the note encrypted, bound to its row, and reads it back', async () => {
      const [stored] = await storedNotes();
      assert.ok(stored);
      assert.match(stored.text, /^enc1:dev:/);
      for (const fragment of ['Example', '01632', 'daughter']) assert.ok(!stored.text.includes(fragment));
      assert.deepEqual(
        (await caseNotes(db(), relay.ctx.config.dataKeys, caseId)).map((n) => n.text),
        [NOTE],
      );
      const status = await keyStatus(db(), relay.ctx.config.dataKeys);
      assert.deepEqual(
        status.find((s) => s.field === 'review_notes.text'),
        { field: 'review_notes.text', byKey: { dev: 1 }, plain: 0, unknownKey: 0 },
      );
    });

    it('retention empties the note once the referral it is about is purged, and says so', async () => {
      await db()
        .updateTable('referrals')
        .set({ closed_at: '2026-11-20T00:00:00.000Z' })
        .where('id', '=', referralId)
        .execute();
      relay.clock.set(new Date(Date.parse('2026-11-20T00:00:00Z') + 2923 * DAY).toISOString());
      const run = await retentionJob()(relay.ctx, relay.clock.now());
      assert.deepEqual(run, { status: 'done', purged: 1, escalationNotes: 0, reviewNotes: 1, heldBack: 0 });

      const [stored] = await storedNotes();
      assert.ok(stored?.purged_at);
      assert.match(stored.text, /^enc1:dev:/, 'one shape for every value in the column');
      assert.deepEqual(await caseNotes(db(), relay.ctx.config.dataKeys, caseId), [
        { at: '2026-11-25T11:00:00.000Z', authorName: 'Lee Lead', text: '', removed: true },
      ]);
      const audit = await db()
        .selectFrom('audit_log')
        .select('detail')
        .where('action', '=', 'review-notes.purged')
        .execute();
      assert.deepEqual(
        audit.map((a) => JSON.parse(a.detail)),
        [{ count: 1, policy: 'retention' }],
      );
      assert.equal((await verifyAuditChain(db())).ok, true);
    });
  });

  describe(`review notes written before sealing [${dialect}]`, () => {
    let database: TestDatabase;
    after(async () => database.drop());

    it('the migration encrypts them, and they read back as written', async () => {
      database = await createTestDatabase(dialect, { migrate: false });
      const kysely = database.db.kysely;
      await migrateTo(database.db, '20261206120000_audit_keying');
      const at = '2026-11-25T11:00:00.000Z';
      await kysely
        .insertInto('reviews')
        .values({
          id: 'r1',
          title: 'Old review',
          period_from: FROM,
          period_to: TO,
          conditions: '[]',
          created_by: 'cli',
          created_by_name: 'cli',
          created_at: at,
          case_count: 1,
        })
        .execute();
      await kysely
        .insertInto('review_cases')
        .values({
          id: 'c1',
          review_id: 'r1',
          position: 1,
          referral_id: null,
          escalation_id: null,
          reference: 'EPCR-1',
          source_system: null,
          source_reference: null,
          received_at: null,
          urgency: null,
          conditions: '[]',
          reviewer_id: null,
          status: 'not-started',
          updated_at: at,
        })
        .execute();
      // As the previous version wrote it: plain text (the typed schema now has purged_at).
      await kysely
        .insertInto('review_notes')
        .values({ case_id: 'c1', at, author: 'cli', author_name: 'Old Reviewer', text: NOTE } as never)
        .execute();

      const keys = loadConfig({}).dataKeys;
      const applied = await migrateToLatest(database.db);
      assert.ok(applied.includes('20261206121000_review_notes_sealed'), applied.join(', '));
      const [stored] = await kysely.selectFrom('review_notes').selectAll().execute();
      assert.match(stored?.text ?? '', /^enc1:dev:/);
      assert.ok(!stored?.text.includes('Example'));
      assert.equal(stored?.purged_at, null);
      assert.deepEqual(
        (await caseNotes(kysely, keys, 'c1')).map((n) => n.text),
        [NOTE],
      );
    });
  });
}
