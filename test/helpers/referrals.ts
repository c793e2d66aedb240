import { exampleReferral, type ReferralBody } from '../../src/referrals/referral.example.ts';

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
