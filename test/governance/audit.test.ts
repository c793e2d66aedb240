import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Db, Dialect } from '../../src/db/database.ts';
import {
  GENESIS_HASH,
  appendAudit,
  currentAuditKey,
  hashEntry,
  verifyAuditChain,
  type AuditEntry,
  type VerifyResult,
} from '../../src/records/audit.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../helpers/db.ts';

const T0 = new Date('2026-11-25T10:00:00Z');

function entry(i: number): AuditEntry {
  return {
    actor: 'system',
    action: 'test.appended',
    entityType: 'test',
    entityId: `e${i}`,
    detail: { i, state: 'sent' },
  };
}

/** Appends n entries, each in its own transaction, as services do. */
async function appendMany(db: Db, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 1; i <= n; i++) {
    const seq = await db.kysely
      .transaction()
      .execute((trx) => appendAudit(trx, new Date(T0.getTime() + i * 1000), entry(i)));
    seqs.push(seq);
  }
  return seqs;
}

async function auditRows(db: Db) {
  return db.kysely.selectFrom('audit_log').selectAll().orderBy('seq').execute();
}

async function head(db: Db) {
  return db.kysely.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
}

/** What an attacker with database access does first: remove the append-only triggers. */
async function dropTriggers(db: Db, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') {
    await sql`DROP TRIGGER audit_log_no_update`.execute(db.kysely);
    await sql`DROP TRIGGER audit_log_no_delete`.execute(db.kysely);
  } else {
    await sql`DROP TRIGGER audit_log_append_only ON audit_log`.execute(db.kysely);
  }
}

function assertBroken(result: VerifyResult, brokenAt: number, problem: RegExp): void {
  assert.equal(result.ok, false, `expected a broken chain, got ${JSON.stringify(result)}`);
  if (result.ok) return;
  assert.equal(result.brokenAt, brokenAt);
  assert.equal(result.entries, brokenAt - 1, 'entries counts the intact links before the break');
  assert.match(result.problem, problem);
}

describeEachDialect('audit log', (dialect) => {
  describe('an untouched chain', () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(dialect);
    });
    after(async () => {
      await database.drop();
    });

    it('verifies an empty log as intact, with the genesis hash as head', async () => {
      assert.deepEqual(await verifyAuditChain(database.db.kysely), {
        ok: true,
        entries: 0,
        headHash: GENESIS_HASH,
      });
    });

    it('appends entries in transactions, numbered 1..N and each linked to the one before', async () => {
      const db = database.db;
      assert.deepEqual(await appendMany(db, 5), [1, 2, 3, 4, 5]);
      // Several entries in one transaction (a state change and its view, say) chain just the same.
      const more = await db.kysely
        .transaction()
        .execute(async (trx) => [await appendAudit(trx, T0, entry(6)), await appendAudit(trx, T0, entry(7))]);
      assert.deepEqual(more, [6, 7]);

      const rows = await auditRows(db);
      assert.deepEqual(
        rows.map((r) => r.seq),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assert.equal(rows[0]?.prev_hash, GENESIS_HASH);
      for (let i = 1; i < rows.length; i++) assert.equal(rows[i]?.prev_hash, rows[i - 1]?.hash);
      for (const row of rows) {
        const { hash, ...content } = row;
        assert.equal(
          hash,
          hashEntry(content, currentAuditKey()),
          `entry ${row.seq} carries the keyed hash of its own content`,
        );
        assert.notEqual(hash, hashEntry(content), 'not the plain SHA-256 anyone could recompute');
        assert.match(hash, /^[0-9a-f]{64}$/);
      }
      assert.equal(rows[1]?.at, '2026-11-25T10:00:02.000Z');
      assert.equal(rows[1]?.entity_id, 'e2');
      assert.deepEqual(JSON.parse(rows[1]?.detail ?? ''), { i: 2, state: 'sent' });

      const last = rows.at(-1);
      assert.deepEqual(await head(db), { id: 1, seq: 7, hash: last?.hash });
      assert.deepEqual(await verifyAuditChain(db.kysely), { ok: true, entries: 7, headHash: last?.hash });
      // Walking in small batches crosses batch boundaries and must reach the same answer.
      assert.deepEqual(await verifyAuditChain(db.kysely, { batchSize: 2 }), {
        ok: true,
        entries: 7,
        headHash: last?.hash,
      });
      assert.deepEqual(await verifyAuditChain(db.kysely, { batchSize: 7 }), {
        ok: true,
        entries: 7,
        headHash: last?.hash,
      });
    });

    it('a rolled-back transaction leaves no entry and no gap', async () => {
      const db = database.db;
      await assert.rejects(
        db.kysely.transaction().execute(async (trx) => {
          await appendAudit(trx, T0, entry(99));
          throw new Error('the state change failed');
        }),
        /the state change failed/,
      );
      const seq = await db.kysely.transaction().execute((trx) => appendAudit(trx, T0, entry(8)));
      assert.equal(seq, 8);
      const result = await verifyAuditChain(db.kysely);
      assert.equal(result.ok, true);
      assert.equal(result.entries, 8);
    });

    it('keeps the chain intact and gap-free under 20 concurrent transactions', async () => {
      const db = database.db;
      const before = (await head(db)).seq;
      const seqs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.kysely.transaction().execute((trx) => appendAudit(trx, T0, entry(100 + i))),
        ),
      );
      assert.deepEqual(
        [...seqs].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => before + 1 + i),
        'every appender got its own seq',
      );
      const rows = await auditRows(db);
      assert.deepEqual(
        rows.map((r) => r.seq),
        Array.from({ length: before + 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        rows
          .slice(before)
          .map((r) => r.entity_id)
          .sort(),
        Array.from({ length: 20 }, (_, i) => `e${100 + i}`).sort(),
      );
      const result = await verifyAuditChain(db.kysely);
      assert.deepEqual(result, { ok: true, entries: before + 20, headHash: rows.at(-1)?.hash });
    });

    it('the database itself refuses UPDATE and DELETE on audit_log', async () => {
      const db = database.db;
      const rowsBefore = await auditRows(db);
      await assert.rejects(
        sql`UPDATE audit_log SET detail = ${'{}'} WHERE seq = ${2}`.execute(db.kysely),
        /append-only/,
      );
      await assert.rejects(sql`DELETE FROM audit_log WHERE seq = ${2}`.execute(db.kysely), /append-only/);
      await assert.rejects(sql`DELETE FROM audit_log`.execute(db.kysely), /append-only/);
      if (dialect === 'postgres') {
        await assert.rejects(sql`TRUNCATE audit_log`.execute(db.kysely), /append-only/);
      }
      assert.deepEqual(await auditRows(db), rowsBefore);
      assert.equal((await verifyAuditChain(db.kysely)).ok, true);
    });
  });

  describe('after an attacker drops the triggers', () => {
    const N = 6;
    let database: TestDatabase;
    let db: Db;
    // Each tampering gets a fresh chain so that one break cannot mask another.
    async function freshChain(): Promise<void> {
      await database?.drop();
      database = await createTestDatabase(dialect);
      db = database.db;
      await appendMany(db, N);
      assert.equal((await verifyAuditChain(db.kysely)).ok, true);
      await dropTriggers(db, dialect);
    }
    after(async () => {
      await database?.drop();
    });

    it('editing entry k’s detail breaks the chain at k', async () => {
      await freshChain();
      await sql`UPDATE audit_log SET detail = ${'{"i":3,"state":"acknowledged"}'} WHERE seq = ${3}`.execute(
        db.kysely,
      );
      assertBroken(await verifyAuditChain(db.kysely), 3, /entry 3 was changed/);
    });

    it('editing entry k’s actor or time breaks the chain at k too', async () => {
      await freshChain();
      await sql`UPDATE audit_log SET actor = ${'user:someone-else'} WHERE seq = ${1}`.execute(db.kysely);
      assertBroken(await verifyAuditChain(db.kysely), 1, /entry 1 was changed/);

      await freshChain();
      await sql`UPDATE audit_log SET at = ${'2026-11-25T09:00:00.000Z'} WHERE seq = ${N}`.execute(db.kysely);
      assertBroken(await verifyAuditChain(db.kysely), N, new RegExp(`entry ${N} was changed`));
    });

    it('deleting a middle entry breaks the chain at that seq', async () => {
      await freshChain();
      await sql`DELETE FROM audit_log WHERE seq = ${4}`.execute(db.kysely);
      assertBroken(await verifyAuditChain(db.kysely), 4, /entry 4 is missing/);
      assertBroken(await verifyAuditChain(db.kysely, { batchSize: 2 }), 4, /entry 4 is missing/);
    });

    it('deleting the first entry breaks the chain at 1', async () => {
      await freshChain();
      await sql`DELETE FROM audit_log WHERE seq = ${1}`.execute(db.kysely);
      assertBroken(await verifyAuditChain(db.kysely), 1, /entry 1 is missing/);
    });

    it('deleting the last entry (the tail) is detected', async () => {
      await freshChain();
      await sql`DELETE FROM audit_log WHERE seq = ${N}`.execute(db.kysely);
      const result = await verifyAuditChain(db.kysely);
      assertBroken(result, N, /deleted from the end/);
    });

    it('deleting every entry is detected', async () => {
      await freshChain();
      await sql`DELETE FROM audit_log`.execute(db.kysely);
      assertBroken(await verifyAuditChain(db.kysely), 1, /deleted from the end/);
    });

    it('editing an entry and recomputing its hash without AUDIT_KEY breaks the chain at that entry', async () => {
      await freshChain();
      const row = await db.kysely
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      const { hash: _old, ...content } = row;
      const forged = { ...content, detail: '{"i":3,"state":"acknowledged"}' };
      await sql`UPDATE audit_log SET detail = ${forged.detail}, hash = ${hashEntry(forged)} WHERE seq = ${3}`.execute(
        db.kysely,
      );
      assertBroken(await verifyAuditChain(db.kysely), 3, /entry 3 was changed/);
    });
  });
});
