import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createContext, type RelayContext } from '../../src/context.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { keyIdOf } from '../../src/records/field-crypto.ts';
import { digestsUnderEveryKey } from '../../src/records/search-index.ts';
import { searchReferrals } from '../../src/web/safeguarding/search.queries.ts';
import { keyStatus, rotateKeys, type RotationBatch } from '../../src/governance/keys.ts';
import { PERSONAL_FIELDS, unsealField } from '../../src/records/personal-data.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import { apiClient } from '../assurance/api.helpers.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, testConfig, type TestRelay } from '../helpers/relay.ts';

const A = `key-a:${randomBytes(32).toString('base64')}`;
const B = `key_b:${randomBytes(32).toString('base64')}`;

class Crash extends Error {}

describeEachDialect('relay keys rotate', (dialect) => {
  let relay: TestRelay;
  let ids: string[];
  const withKeys = (keys: string): RelayContext =>
    createContext(testConfig({ RELAY_DATA_KEYS: keys }), relay.database.db, relay.clock);
  const referrals = () => relay.ctx.db.kysely.selectFrom('referrals').selectAll().orderBy('id').execute();

  before(async () => {
    relay = await createTestRelay(dialect, { env: { RELAY_DATA_KEYS: A } });
    const api = apiClient(relay);
    ids = [];
    for (let i = 0; i < 3; i++) ids.push((await api.raise()).id);
    const outcome = await api.post(`/api/v1/referrals/${ids[0]}/outcomes`, relay.teamKey, {
      outcome: 'advice-given',
      note: 'Advice to Mrs Whitfield.',
    });
    assert.equal(outcome.statusCode, 201, outcome.body);
    // One referral stored before encryption existed: rotation encrypts it too.
    await relay.ctx.db.kysely
      .updateTable('referrals')
      .set({ payload: JSON.stringify(exampleReferral()) })
      .where('id', '=', ids[2]!)
      .execute();
  });
  after(() => relay.close());

  it('counts values per key id, and plain text', async () => {
    const status = await keyStatus(relay.ctx.db.kysely, withKeys(`${A},${B}`).config.dataKeys);
    const payload = status.find((s) => s.field === 'referrals.payload');
    assert.deepEqual(payload, {
      field: 'referrals.payload',
      byKey: { 'key-a': 2, key_b: 0 },
      plain: 1,
      unknownKey: 0,
    });
    const notes = status.find((s) => s.field === 'routes.outcome_note');
    assert.deepEqual(notes?.byKey, { 'key-a': 1, key_b: 0 });
    const withoutA = await keyStatus(relay.ctx.db.kysely, withKeys(B).config.dataKeys);
    assert.equal(withoutA.find((s) => s.field === 'referrals.payload')?.unknownKey, 2);
  });

  /** The referrals a name search finds with these keys configured, as the search page asks. */
  const foundByName = async (ctx: RelayContext, name: string) => {
    const digests = digestsUnderEveryKey(ctx.config.dataKeys, { kind: 'name', value: name });
    const rows = await searchReferrals(ctx.db.kysely, { termGroups: [[digests]], limit: 10 });
    return rows.map((r) => r.id).sort();
  };
  const searchKeys = async () =>
    (await relay.ctx.db.kysely.selectFrom('referral_search_terms').select('key_id').execute()).map(
      (r) => r.key_id,
    );

  it('finds referrals indexed under the old key once a new key is added, before rotation', async () => {
    assert.ok((await searchKeys()).every((k) => k === 'key-a'));
    assert.deepEqual(await foundByName(withKeys(`${A},${B}`), 'whitfield'), [...ids].sort());
    assert.deepEqual(await foundByName(withKeys(B), 'whitfield'), [], 'the new key alone cannot match them');
  });

  it('refuses, naming the key id, when an old key has been removed too early', async () => {
    await assert.rejects(rotateKeys(withKeys(B), { batchSize: 10, actor: 'test' }), /"key-a"/);
  });

  it('resumes after a crash part way, and ends with every value under the newest key', async () => {
    const ctx = withKeys(`${A},${B}`);
    const seen: RotationBatch[] = [];
    const crashing = rotateKeys(ctx, {
      batchSize: 1,
      actor: 'test',
      onBatch: (batch) => {
        seen.push(batch);
        throw new Crash('the process died after its first batch');
      },
    });
    await assert.rejects(crashing, Crash);
    assert.equal(seen.length, 1);
    const midway = (await referrals()).map((r) => keyIdOf(r.payload) ?? 'plain');
    // Batches go in id order (random ids), so which payload went first is not known.
    assert.equal(midway.filter((k) => k === 'key_b').length, 1, 'the first batch committed');
    assert.equal(midway.filter((k) => k !== 'key_b').length, 2, 'the rest did not');

    const total = await rotateKeys(ctx, { batchSize: 2, actor: 'test' });
    assert.equal(total, 3, 'two payloads and one outcome note were left');
    const status = await keyStatus(ctx.db.kysely, ctx.config.dataKeys);
    for (const field of status) {
      assert.equal(field.byKey['key-a'], 0, field.field);
      assert.equal(field.plain, 0, field.field);
    }
    assert.equal(
      await rotateKeys(ctx, { batchSize: 2, actor: 'test' }),
      0,
      'a further run has nothing to do',
    );
  });

  it('leaves everything readable with the new key alone', async () => {
    const keys = withKeys(B).config.dataKeys;
    for (const row of await referrals()) {
      const payload = readPayload(keys, row);
      assert.ok(!('purged' in payload));
      assert.equal(payload.subject.familyName, 'Whitfield');
    }
    const route = await relay.ctx.db.kysely
      .selectFrom('routes')
      .selectAll()
      .where('referral_id', '=', ids[0]!)
      .executeTakeFirstOrThrow();
    const note = unsealField(keys, PERSONAL_FIELDS.outcomeNote, route.id, route.outcome_note);
    assert.equal(note, 'Advice to Mrs Whitfield.');
  });

  it('rebuilds the search index under the new key, so the old key can go', async () => {
    const keys = await searchKeys();
    assert.equal(keys.length, 3 * 8, 'each referral keeps its eight terms');
    assert.ok(keys.every((k) => k === 'key_b'));
    assert.deepEqual(await foundByName(withKeys(B), 'whitfield'), [...ids].sort());
    assert.deepEqual(await foundByName(withKeys(B), 'whitfields'), []);
    const rebuilt = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['entity_id', 'detail'])
      .where('action', '=', 'search-index.rebuilt')
      .execute();
    assert.equal(
      rebuilt.reduce((n, e) => n + (JSON.parse(e.detail) as { referrals: number }).referrals, 0),
      3,
    );
    assert.ok(rebuilt.every((e) => e.entity_id === 'key_b'));
  });

  it('audits each batch with counts and no content, and the chain still verifies', async () => {
    const entries = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['actor', 'entity_id', 'detail'])
      .where('action', '=', 'data-keys.rotated')
      .orderBy('seq')
      .execute();
    assert.ok(entries.length >= 3);
    assert.ok(entries.every((e) => e.entity_id === 'key_b' && e.actor === 'test'));
    const details = entries.map(
      (e) => JSON.parse(e.detail) as { field: string; reencrypted: number; from: Record<string, number> },
    );
    const reencrypted = details.reduce((sum, d) => sum + d.reencrypted, 0);
    assert.equal(reencrypted, 4);
    const first = JSON.parse(entries[0]!.detail) as { field: string; reencrypted: number; from: object };
    assert.deepEqual([first.field, first.reencrypted], ['referrals.payload', 1]);
    assert.ok(['{"key-a":1}', '{"plain":1}'].includes(JSON.stringify(first.from)));
    const from = details.flatMap((d) => Object.entries(d.from));
    assert.deepEqual(
      from.reduce<Record<string, number>>((all, [k, n]) => ({ ...all, [k]: (all[k] ?? 0) + n }), {}),
      { 'key-a': 3, plain: 1 },
    );
    assert.ok(entries.every((e) => !e.detail.includes('Whitfield') && !e.detail.includes('enc1:')));
    assert.equal((await verifyAuditChain(relay.ctx.db.kysely)).ok, true);
  });
});
