import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { apiClient } from '../assurance/api.helpers.ts';
import { runRelay } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

// The key the test relay uses when RELAY_DATA_KEYS is unset (src/config.ts), and a new one.
const DEV = `dev:${Buffer.alloc(32, 7).toString('base64')}`;
const NEW = `k2:${randomBytes(32).toString('base64')}`;

describe('relay keys and relay legal-hold', () => {
  let relay: TestRelay;
  let reference: string;
  const run = (args: string[], keys = `${DEV},${NEW}`) =>
    runRelay(args, { DATABASE_URL: relay.database.url, RELAY_DATA_KEYS: keys });

  before(async () => {
    relay = await createTestRelay('sqlite');
    reference = (await apiClient(relay).raise()).reference;
  });
  after(() => relay.close());

  it('sets and clears a legal hold, with one-line refusals', () => {
    const set = run(['legal-hold', 'set', reference, '--reason', 'Claim 2026/7']);
    assert.equal(set.status, 0, set.stderr);
    assert.equal(set.stdout.trim(), `${reference} is on legal hold.`);
    const again = run(['legal-hold', 'set', reference, '--reason', 'Claim 2026/7']);
    assert.equal(again.status, 1);
    assert.equal(again.stderr.trim(), `relay: ${reference} is already on legal hold`);
    const cleared = run(['legal-hold', 'clear', reference]);
    assert.equal(cleared.status, 0, cleared.stderr);
    const noReason = run(['legal-hold', 'set', reference]);
    assert.notEqual(noReason.status, 0);
    assert.match(noReason.stderr, /--reason/);
  });

  it('shows counts per key, rotates to the newest key, and names a missing key', () => {
    const before = run(['keys', 'status']);
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /^field\tdev\tk2\tplain\tunknown-key$/m);
    assert.match(before.stdout, /^referrals\.payload\t1\t0\t0\t0$/m);

    const rotated = run(['keys', 'rotate', '--batch', '1']);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /referrals\.payload: 1 re-encrypted/);
    assert.match(rotated.stdout, /Done: 1 value re-encrypted; every personal-data value is under key k2\./);
    assert.match(run(['keys', 'status']).stdout, /^referrals\.payload\t0\t1\t0\t0$/m);
    assert.match(rotated.stdout, /search index: 1 referral rebuilt under key k2/);

    const lost = run(['keys', 'rotate'], `k3:${randomBytes(32).toString('base64')}`);
    assert.equal(lost.status, 1);
    assert.match(lost.stderr, /^relay: .*data key "k2"/);
    assert.doesNotMatch(lost.stderr, /Whitfield/);
  });

  it('indexes for search the referrals received before the index (relay personal-data reindex)', async () => {
    const terms = relay.ctx.db.kysely.selectFrom('referral_search_terms').select('key_id');
    await relay.ctx.db.kysely.deleteFrom('referral_search_terms').execute();
    const first = run(['personal-data', 'reindex']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'Done: 1 referral indexed; every referral is searchable.');
    const rows = await terms.execute();
    assert.equal(rows.length, 8);
    assert.ok(rows.every((r) => r.key_id === 'k2'));
    assert.equal(
      run(['personal-data', 'reindex']).stdout.trim(),
      'Done: 0 referrals indexed; every referral is searchable.',
    );
  });
});
