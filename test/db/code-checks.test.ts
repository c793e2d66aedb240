import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, describeEachDialect } from '../helpers/db.ts';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';

/** A delivery row as intake writes one; each test spoils one code. */
function delivery(overrides: Record<string, string>) {
  const at = '2026-12-06T10:00:00.000Z';
  const id = randomUUID();
  return {
    id,
    referral_id: null,
    route_id: null,
    team_id: 'birmingham-adults',
    channel: 'email',
    address: 'adults@birmingham.example.org',
    purpose: 'test-alert',
    state: 'queued',
    attempts: 0,
    next_attempt_at: at,
    send_by: at,
    message_id: `<${id}@relay.example.org>`,
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

const REFUSED = /check constraint/i;

describeEachDialect('the database refuses unknown codes', (database) => {
  // The typed schema would not let a bad code be written at all, so the rows go in untyped (`never`).
  const insert = (row: Record<string, unknown>) =>
    database()
      .db.kysely.insertInto('deliveries')
      .values(row as never)
      .execute();

  it('accepts a delivery with known codes', async () => {
    await insert(delivery({}));
  });

  for (const [column, bad] of [
    ['channel', 'sms'],
    ['purpose', 'chaser'],
    ['state', 'lost'],
  ] as const) {
    it(`refuses a delivery whose ${column} is not a known code`, async () => {
      const before = await database().db.kysely.selectFrom('deliveries').select('id').execute();
      await assert.rejects(insert(delivery({ [column]: bad })), REFUSED);
      const after = await database().db.kysely.selectFrom('deliveries').select('id').execute();
      assert.equal(after.length, before.length, 'nothing was written');
    });
  }

  it('refuses an update to an unknown state, and keeps the row as it was', async () => {
    const row = delivery({});
    await insert(row);
    const db = database().db.kysely;
    await assert.rejects(sql`update deliveries set state = 'lost' where id = ${row.id}`.execute(db), REFUSED);
    const kept = await db
      .selectFrom('deliveries')
      .select('state')
      .where('id', '=', row.id)
      .executeTakeFirst();
    assert.equal(kept?.state, 'queued');
  });

  it('refuses an escalation whose reason is not a known code', async () => {
    const db = database().db.kysely;
    const escalation = (reason: string) =>
      ({
        id: randomUUID(),
        dedupe_key: `-:-:${reason}:${randomUUID()}`,
        referral_id: null,
        team_id: null,
        reason,
        state: 'open',
        detail: '{}',
        opened_at: '2026-12-06T10:00:00.000Z',
      }) as never; // the typed schema refuses a bad code at compile time; here the database must
    await db.insertInto('escalations').values(escalation('volume-drop')).execute();
    await assert.rejects(db.insertInto('escalations').values(escalation('felt-uneasy')).execute(), REFUSED);
  });

  it('refuses an attempt whose outcome is not a known code', async () => {
    const row = delivery({});
    await insert(row);
    const attempt = (outcome: string) =>
      ({
        delivery_id: row.id,
        worker: 'w1',
        started_at: row.created_at,
        finished_at: row.created_at,
        duration_ms: 5,
        outcome,
        detail: '250 OK',
      }) as never;
    const db = database().db.kysely;
    await db.insertInto('delivery_attempts').values(attempt('sent')).execute();
    await assert.rejects(db.insertInto('delivery_attempts').values(attempt('maybe')).execute(), REFUSED);
  });
});

describeEachDialect('the code checks migration', (_database, dialect) => {
  it('stops, naming the column, when stored rows already hold an unknown code', async () => {
    const fresh = await createTestDatabase(dialect, { migrate: false });
    try {
      // The schema as the migration before this one left it, then a row no code check would let in.
      await migrateTo(fresh.db, '20261206131000_api_key_systems');
      await sql`insert into escalations (id, dedupe_key, referral_id, team_id, reason, state, detail, opened_at)
        values ('e1', 'k1', null, null, 'old-reason', 'open', '{}', '2026-12-06T10:00:00Z')`.execute(
        fresh.db.kysely,
      );
      await assert.rejects(migrateToLatest(fresh.db), /escalations\.reason: 1 rows hold a code outside/);
    } finally {
      await fresh.drop();
    }
  });
});
