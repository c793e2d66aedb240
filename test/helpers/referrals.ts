import assert from 'node:assert/strict';
import { exampleReferral, type ReferralBody } from '../../src/referrals/referral.example.ts';
import type { TestRelay } from './relay.ts';

/**
 * A Dudley adult: a day team with minimal email detail and no webhook, so exactly one email
 * delivery. `reference` must be unique per referral (intake is idempotent on it).
 */
export function dudleyReferral(reference: string): ReferralBody {
  const base = exampleReferral();
  return exampleReferral({
    source: { system: 'test-epcr', reference },
    subject: { ...base.subject, address: { line1: '1 Castle Hill', town: 'Dudley', postcode: 'DY1 4QF' } },
  });
}

/** POSTs `dudleyReferral(reference)` with the ePCR key; asserts it was accepted with its one delivery. */
export async function raiseDudley(relay: TestRelay, reference: string) {
  const response = await relay.app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${relay.epcrKey}` },
    payload: dudleyReferral(reference),
  });
  assert.equal(response.statusCode, 201);
  const doc = response.json() as { id: string; reference: string; deliveries: { id: string }[] };
  assert.equal(doc.deliveries.length, 1);
  return { id: doc.id, reference: doc.reference, deliveryId: doc.deliveries[0]!.id };
}
