import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sql } from 'kysely';
import { resolveEscalation } from '../../src/assurance/escalation.resolve.ts';
import { findEscalationItem } from '../../src/assurance/escalation.queries.ts';
import { disputeManifestEntry } from '../../src/assurance/manifest.service.ts';
import { sweep } from '../../src/assurance/watchdog.ts';
import { sqlitePath } from '../../src/config.ts';
import { isEncrypted } from '../../src/records/field-crypto.ts';
import { PERSONAL_FIELDS, unsealField } from '../../src/records/personal-data.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { MINUTE } from '../../src/time.ts';
import { apiClient } from '../assurance/api.helpers.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const example = exampleReferral();
const subject = { ...example.subject, phone: '0121 496 0718' };
const OUTCOME_NOTE = 'Visited Mrs Whitfield with her GP; her nephew no longer has her cards.';
const ESCALATION_NOTE = 'Phoned about Edna Whitfield at Elmdon Road; the duty desk has it.';
const DISPUTE_NOTE = 'We never had Edna Whitfield, born 1939.';

/** Everything that would identify the subject, or that only the referral's free text says. */
const SECRETS = [
  'Edna',
  'Whitfield',
  '943 476 5919',
  '9434765919',
  'Flat 2, 14 Elmdon Road',
  'Elmdon',
  'B15 2TT',
  '0121 496 0718',
  'Found on the floor, cold, no food in the flat',
  'Collects her pension weekly',
  'Nephew',
  'Hard of hearing',
  'nephew no longer has her cards',
];

/** The SQLite database and its WAL (recent commits live there until a checkpoint), as bytes. */
function sqliteBytes(url: string): string {
  const path = sqlitePath(url);
  const dir = dirname(path);
  return readdirSync(dir)
    .filter((name) => name.startsWith(basename(path)))
    .map((name) => readFileSync(join(dir, name)).toString('latin1'))
    .join('\n');
}

/** Every text column of every table in the test's PostgreSQL schema. */
async function postgresText(relay: TestRelay): Promise<string> {
  const db = relay.ctx.db.kysely;
  const { rows: columns } = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and data_type in ('text', 'character varying', 'json', 'jsonb')`.execute(
    db,
  );
  assert.ok(columns.some((c) => c.table_name === 'referrals' && c.column_name === 'payload'));
  const parts: string[] = [];
  for (const c of columns) {
    const { rows } = await sql<{ v: string | null }>`
      select ${sql.ref(c.column_name)}::text as v from ${sql.table(c.table_name)}`.execute(db);
    parts.push(...rows.map((r) => r.v ?? ''));
  }
  return parts.join('\n');
}

describeEachDialect('personal data at rest', (dialect) => {
  let relay: TestRelay;
  let referral: { id: string; reference: string };

  before(async () => {
    relay = await createTestRelay(dialect);
    const api = apiClient(relay);
    referral = await api.raise({ subject });
    // A not-sent escalation to resolve with a note that names the subject.
    relay.clock.advance(10 * MINUTE);
    await sweep(relay.ctx);
    const escalation = await api
      .db()
      .selectFrom('escalations')
      .select('id')
      .where('referral_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    await resolveEscalation(relay.ctx, escalation.id, {
      note: ESCALATION_NOTE,
      by: { name: 'Dana Brooks', actor: 'test' },
    });
    const outcome = await api.post(`/api/v1/referrals/${referral.id}/outcomes`, relay.teamKey, {
      outcome: 's42-enquiry',
      note: OUTCOME_NOTE,
    });
    assert.equal(outcome.statusCode, 201, outcome.body);
    await disputeManifestEntry(
      relay.ctx,
      'birmingham-adults',
      { reference: referral.reference, reason: 'other', note: DISPUTE_NOTE },
      'test',
    );
  });
  after(() => relay.close());

  it('leaves none of the subject’s personal data readable in the database', async () => {
    const raw = dialect === 'sqlite' ? sqliteBytes(relay.database.url) : await postgresText(relay);
    assert.ok(raw.includes(referral.reference), 'the scan does see the data (the reference is plain)');
    for (const secret of SECRETS) {
      assert.ok(!raw.includes(secret), `"${secret}" is readable in the ${dialect} database`);
    }
  });

  it('reads it all back through the accessors', async () => {
    const keys = relay.ctx.config.dataKeys;
    const row = await findReferral(relay.ctx.db.kysely, referral.id);
    assert.ok(row && isEncrypted(row.payload));
    const payload = readPayload(keys, row);
    assert.ok(!('purged' in payload));
    assert.equal(payload.subject.familyName, 'Whitfield');
    assert.equal(payload.allegedPerson?.details, example.allegedPerson?.details);

    const route = await relay.ctx.db.kysely
      .selectFrom('routes')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal(unsealField(keys, PERSONAL_FIELDS.outcomeNote, route.id, route.outcome_note), OUTCOME_NOTE);
    // The same outcome again is a safe retry only if the stored note decrypts to the same text.
    const again = await apiClient(relay).post(`/api/v1/referrals/${referral.id}/outcomes`, relay.teamKey, {
      outcome: 's42-enquiry',
      note: OUTCOME_NOTE,
    });
    assert.ok(again.statusCode < 300, again.body);

    const escalations = await relay.ctx.db.kysely
      .selectFrom('escalations')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .execute();
    const resolved = escalations.find((e) => e.note !== null);
    assert.ok(resolved);
    assert.equal((await findEscalationItem(relay.ctx, resolved.id)).note, ESCALATION_NOTE);
    const disputed = escalations.find((e) => e.team_note !== null);
    assert.ok(disputed);
    assert.equal(unsealField(keys, PERSONAL_FIELDS.teamNote, disputed.id, disputed.team_note), DISPUTE_NOTE);
    assert.ok(
      !disputed.detail.includes('note'),
      'the dispute note is not in detail, which the audit log copies',
    );
  });

  it('still reads a referral stored before encryption', async () => {
    const plain = JSON.stringify({ ...example, subjectType: 'adult' });
    await relay.ctx.db.kysely
      .updateTable('referrals')
      .set({ payload: plain })
      .where('id', '=', referral.id)
      .execute();
    const row = await findReferral(relay.ctx.db.kysely, referral.id);
    assert.ok(row);
    const payload = readPayload(relay.ctx.config.dataKeys, row);
    assert.ok(!('purged' in payload));
    assert.equal(payload.subject.givenName, 'Edna');
  });
});
