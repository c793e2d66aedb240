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

/** Parts of the status document intake answers with that tests use. */
export interface RaisedReferral {
  id: string;
  reference: string;
  status: string;
  routes: { team: string; ackBy: string }[];
  deliveries: { id: string; team: string; channel: string; address: string }[];
}

let raised = 0;

/**
 * The one way a test raises a referral through the API: POSTs `exampleReferral(overrides)` (a
 * Birmingham adult unless overridden) with the test ePCR's key, asserts it was accepted (201) and
 * returns its status document. Each gets a source reference of its own unless `overrides.source`
 * names one (intake is idempotent on it).
 */
export async function raise(
  relay: TestRelay,
  overrides: Parameters<typeof exampleReferral>[0] = {},
): Promise<RaisedReferral> {
  raised += 1;
  const response = await relay.app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${relay.epcrKey}` },
    payload: exampleReferral({
      source: { system: 'test-epcr', reference: `RAISED-${process.pid}-${raised}` },
      ...overrides,
    }),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as RaisedReferral;
}

/** Raises `dudleyReferral(reference)`; asserts it was accepted with its one delivery. */
export async function raiseDudley(relay: TestRelay, reference: string) {
  const doc = await raise(relay, dudleyReferral(reference));
  assert.equal(doc.deliveries.length, 1);
  return { id: doc.id, reference: doc.reference, deliveryId: doc.deliveries[0]!.id };
}

/**
 * A referral from `source` that happened a minute ago by the real clock: for a real `relay`
 * process, whose clock a test cannot set. `overrides` as for exampleReferral.
 */
export function recentReferral(
  source: ReferralBody['source'],
  overrides: Partial<ReferralBody> = {},
): ReferralBody {
  const occurredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return exampleReferral({ source, incident: { ...exampleReferral().incident, occurredAt }, ...overrides });
}
