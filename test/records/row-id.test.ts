import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRowId } from '../../src/records/row-id.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay } from '../helpers/relay.ts';

const VERSION_7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('row ids', () => {
  it('are version 7 UUIDs whose first 48 bits are the time in milliseconds', () => {
    const at = Date.parse('2026-12-07T21:30:00.123Z');
    const id = newRowId(new Date(at));
    assert.match(id, VERSION_7);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
  });

  it('sort in the order they were made, millisecond by millisecond, and never repeat', () => {
    const start = Date.parse('2026-12-07T00:00:00Z');
    const ids = Array.from({ length: 5000 }, (_, i) => newRowId(new Date(start + Math.floor(i / 50))));
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 50; i < ids.length; i += 50) {
      assert.ok((ids[i - 1] as string) < (ids[i] as string), `id ${i} sorts after the millisecond before`);
    }
  });

  it('keep 74 random bits: two ids of the same millisecond share only the time', () => {
    const at = new Date('2026-12-07T21:30:00Z');
    const [a, b] = [newRowId(at), newRowId(at)];
    assert.equal(a.slice(0, 13), b.slice(0, 13));
    assert.notEqual(a.slice(15), b.slice(15));
  });

  it('name a new referral, its route and its delivery, as its status document shows them', async () => {
    const relay = await createTestRelay('sqlite');
    try {
      const { id: referralId, deliveryId } = await raiseDudley(relay, 'ROW-ID-1');
      assert.match(referralId, VERSION_7);
      assert.match(deliveryId, VERSION_7);
      const route = await relay.ctx.db.kysely
        .selectFrom('routes')
        .select('id')
        .where('referral_id', '=', referralId)
        .executeTakeFirstOrThrow();
      assert.match(route.id, VERSION_7);
    } finally {
      await relay.close();
    }
  });
});
