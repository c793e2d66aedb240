import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Db, Dialect } from '../../src/db/database.ts';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';
import { loadConfig } from '../../src/config.ts';
import {
  GENESIS_HASH,
  anchorHead,
  appendAudit,
  formatAnchor,
  currentAuditKey,
  hashEntry,
  useAuditKey,
  verifyAuditChain,
  type AuditEntry,
} from '../../src/records/audit.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../helpers/db.ts';
import { runRelay } from '../helpers/process.ts';

/**
 * Finding 4 of issue 14: someone with write access to the database (but not AUDIT_KEY) rewrites the
 * audit chain. Each attack is made on the real database, then `relay audit verify` is run as an
 * operator would, in a child process.
 */

const AUDIT_KEY = 'audit-key-for-tests-only-0123456789abcdef';
const KEY = Buffer.from(AUDIT_KEY, 'utf8');
const T0 = new Date('2026-11-25T10:00:00Z');
const N = 6;

function entry(i: number): AuditEntry {
  return { actor: 'system', action: 'test.appended', entityType: 'test', entityId: `e${i}`, detail: { i } };
}

async function appendMany(db: Db, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    await db.kysely
      .transaction()
      .execute((trx) => appendAudit(trx, new Date(T0.getTime() + i * 1000), entry(i)));
  }
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

/**
 * Recomputes every hash from `from` to the end, and the head, as an attacker would after editing an
 * entry: with plain SHA-256, or with a key of their own (they do not have AUDIT_KEY).
 */
async function rechain(db: Db, from: number, key?: Buffer): Promise<void> {
  const rows = await db.kysely.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  let prev = rows.find((r) => r.seq === from - 1)?.hash ?? GENESIS_HASH;
  for (const row of rows.filter((r) => r.seq >= from)) {
    const { hash: _old, ...content } = row;
    const hash = hashEntry({ ...content, prev_hash: prev }, key);
    await sql`UPDATE audit_log SET prev_hash = ${`tmp-${row.seq}`} WHERE seq = ${row.seq}`.execute(db.kysely);
    await sql`UPDATE audit_log SET prev_hash = ${prev}, hash = ${hash} WHERE seq = ${row.seq}`.execute(
      db.kysely,
    );
    prev = hash;
  }
  const last = rows.at(-1);
  await sql`UPDATE audit_head SET seq = ${last?.seq ?? 0}, hash = ${prev} WHERE id = 1`.execute(db.kysely);
}

function childEnv(database: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    AUDIT_KEY,
    ...(database.pgSchema ? { PGOPTIONS: `-c search_path=${database.pgSchema}` } : {}),
    ...extra,
  };
}

function verify(database: TestDatabase, args: string[] = [], extra: Record<string, string> = {}) {
  return runRelay(['audit', 'verify', ...args], childEnv(database, extra));
}

/** Exit 1 with exactly one line on stderr: the reason, naming the first bad entry. */
function assertBrokenAt(result: ReturnType<typeof runRelay>, reason: RegExp): void {
  assert.equal(result.status, 1, `expected exit 1; stdout: ${result.stdout} stderr: ${result.stderr}`);
  const errors = result.stderr.split('\n').filter((line) => line !== '');
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0] ?? '', reason);
}

/** The anchor an auditor holds, signed in-process (the first test runs `relay audit anchor` itself). */
async function anchorOf(database: TestDatabase): Promise<string> {
  return formatAnchor(await anchorHead(database.db.kysely, KEY, new Date()));
}

function anchorByCli(database: TestDatabase): string {
  const result = runRelay(['audit', 'anchor'], childEnv(database));
  assert.equal(result.status, 0, result.stderr);
  const anchor = result.stdout.trim();
  assert.match(anchor, /^audit-anchor\/1 \d+ [0-9a-f]{64} \S+ [0-9a-f]{64}$/);
  return anchor;
}

const secrets = { auditKey: KEY, dataKeys: loadConfig({}).dataKeys };

describeEachDialect('keyed audit chain and anchors', (dialect) => {
  const databases: TestDatabase[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'relay-anchor-'));
  const previousKey = currentAuditKey();
  before(() => useAuditKey(KEY));
  after(async () => {
    useAuditKey(previousKey);
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A chain of N entries written under AUDIT_KEY, its triggers already dropped. */
  async function chain(): Promise<TestDatabase> {
    const database = await createTestDatabase(dialect, { migrate: false });
    databases.push(database);
    await migrateToLatest(database.db, secrets);
    await appendMany(database.db, 1, N);
    await dropTriggers(database.db, dialect);
    return database;
  }

  it('relay audit anchor prints a signed head, or writes it to a file, and verify --anchor accepts both', async () => {
    const database = await chain();
    const anchor = anchorByCli(database);
    const head = await database.db.kysely.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    assert.ok(anchor.startsWith(`audit-anchor/1 ${N} ${head.hash} `), anchor);

    const ok = verify(database, ['--anchor', anchor]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(
        `^Audit chain intact: ${N} entries, head ${head.hash}; it holds the anchor of \\S+ \\(entry ${N}\\)\\.\\n$`,
      ),
    );

    // A later anchor still holds an earlier one: the chain only grows.
    await appendMany(database.db, N + 1, N + 2);
    const file = join(dir, `anchor-${dialect}.txt`);
    const written = runRelay(['audit', 'anchor', '--out', file], childEnv(database));
    assert.equal(written.status, 0, written.stderr);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^audit-anchor/1 ${N + 2} `));
    assert.equal(verify(database, ['--anchor', file]).status, 0);
    assert.equal(verify(database, ['--anchor', anchor]).status, 0);
    // An anchor file is never overwritten: each one is evidence.
    assert.equal(runRelay(['audit', 'anchor', '--out', file], childEnv(database)).status, 1);
  });

  it('truncating the tail and moving audit_head back is caught by the anchor, at the first missing entry', async () => {
    const database = await chain();
    const anchor = await anchorOf(database);
    const kept = await database.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', 4)
      .executeTakeFirstOrThrow();
    await sql`DELETE FROM audit_log WHERE seq > 4`.execute(database.db.kysely);
    await sql`UPDATE audit_head SET seq = 4, hash = ${kept.hash} WHERE id = 1`.execute(database.db.kysely);

    // On its own the shortened chain is consistent: that is exactly why the head is anchored outside.
    assert.equal(verify(database).status, 0);
    assertBrokenAt(
      verify(database, ['--anchor', anchor]),
      /^relay: audit chain broken at entry 5: the chain ends at entry 4 but the anchor of \S+ vouches for entry 6: entries were deleted from the end and the head moved back$/,
    );
  });

  it('editing an entry and recomputing the later hashes without AUDIT_KEY is caught at that entry', async () => {
    for (const attackerKey of [undefined, Buffer.from('the attacker guesses a key of their own')]) {
      const database = await chain();
      const anchor = await anchorOf(database);
      await sql`UPDATE audit_log SET detail = ${'{"i":3,"state":"acknowledged"}'} WHERE seq = 3`.execute(
        database.db.kysely,
      );
      await rechain(database.db, 3, attackerKey);
      const reason = /^relay: audit chain broken at entry 3: entry 3 was changed after it was written$/;
      if (attackerKey) {
        // The same check in-process, to spare a child process.
        const result = await verifyAuditChain(database.db.kysely, { key: KEY });
        assert.deepEqual(result, {
          ok: false,
          entries: 2,
          brokenAt: 3,
          problem: 'entry 3 was changed after it was written',
        });
      } else {
        assertBrokenAt(verify(database), reason);
        assertBrokenAt(verify(database, ['--anchor', anchor]), reason);
      }
    }
  });

  it('moving the start of keyed hashing past the end, to pass off an unkeyed rebuild, is caught', async () => {
    const database = await chain();
    await sql`UPDATE audit_log SET actor = ${'user:someone-else'} WHERE seq = 2`.execute(database.db.kysely);
    await rechain(database.db, 1);
    await sql`UPDATE audit_keying SET keyed_from = ${N + 1} WHERE id = 1`.execute(database.db.kysely);
    assertBrokenAt(
      verify(database),
      /^relay: audit chain broken at entry 7: the record that keyed hashing began at entry 7 is not sealed with this AUDIT_KEY/,
    );
    await sql`DELETE FROM audit_keying`.execute(database.db.kysely);
    assertBrokenAt(
      verify(database),
      /^relay: audit chain broken at entry 1: the record that keyed hashing began at entry 1 is missing/,
    );
  });

  it('a forged anchor, or another AUDIT_KEY, is refused with a one-line reason', async () => {
    const database = await chain();
    const anchor = await anchorOf(database);
    const [version, , hash, at, signature] = anchor.split(' ');
    assertBrokenAt(
      verify(database, ['--anchor', [version, N + 5, hash, at, signature].join(' ')]),
      /^relay: the audit anchor's signature does not match AUDIT_KEY/,
    );
    assertBrokenAt(
      verify(database, ['--anchor', 'audit-anchor/1 nonsense']),
      /^relay: no audit anchor found/,
    );
    assertBrokenAt(
      verify(database, [], { AUDIT_KEY: 'another-audit-key-of-at-least-32-characters' }),
      /^relay: audit chain broken at entry 1: .*not sealed with this AUDIT_KEY.*AUDIT_KEY is not the key this database was set up with$/,
    );
  });

  it('a chain written before AUDIT_KEY stays verifiable after the migration, old entries the old way', async () => {
    const database = await createTestDatabase(dialect, { migrate: false });
    databases.push(database);
    const db = database.db;
    await migrateTo(db, '20261206110000_oncall', secrets);
    // Three entries as the previous version wrote them: plain SHA-256.
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const row = {
        seq,
        at: new Date(T0.getTime() + seq * 1000).toISOString(),
        actor: 'system',
        action: 'test.legacy',
        entity_type: 'test',
        entity_id: `legacy${seq}`,
        detail: '{}',
        prev_hash: prev,
      };
      prev = hashEntry(row);
      await db.kysely
        .insertInto('audit_log')
        .values({ ...row, hash: prev })
        .execute();
    }
    await db.kysely.updateTable('audit_head').set({ seq: 3, hash: prev }).where('id', '=', 1).execute();

    // Later migrations (of other features) may run too; the keying one must be among them.
    const applied = await migrateToLatest(db, secrets);
    assert.ok(applied.includes('20261206120000_audit_keying'), applied.join(', '));
    const keying = await db.kysely.selectFrom('audit_keying').selectAll().executeTakeFirstOrThrow();
    assert.equal(keying.keyed_from, 4);
    await appendMany(db, 4, 5);
    const rows = await db.kysely.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    for (const { hash, ...content } of rows.slice(3))
      assert.equal(hash, hashEntry(content, KEY), 'new entries are keyed');

    const ok = verify(database);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(
      ok.stdout,
      `Audit chain intact: 5 entries, head ${rows.at(-1)?.hash} (entries 1 to 3 predate AUDIT_KEY and are checked by hash alone).\n`,
    );

    // Rewriting the old, unkeyed part cannot be tied into the keyed part that follows it.
    await dropTriggers(db, dialect);
    await sql`UPDATE audit_log SET entity_id = ${'forged'} WHERE seq = 2`.execute(db.kysely);
    await rechain(db, 2);
    assertBrokenAt(
      verify(database),
      /^relay: audit chain broken at entry 4: entry 4 was changed after it was written$/,
    );
  });
});
