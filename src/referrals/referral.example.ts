/**
 * A valid, realistic and wholly fictional referral for tests, docs and demos. Contact details use the
 * ranges reserved for fiction (01632 960xxx, example.org) so a demo can never reach a real person.
 */
import type { z } from 'zod';
import type { ReferralInput } from './referral.schema.ts';

export type ReferralBody = z.input<typeof ReferralInput>;

export function exampleReferral(overrides: Partial<ReferralBody> = {}): ReferralBody {
  return { ...baseReferral(), ...overrides };
}

// A fresh object on every call, so one test's mutation cannot leak into the next.
function baseReferral(): ReferralBody {
  return {
    source: { system: 'epcr-demo', reference: 'EPCR-2026-118204' },
    incident: {
      number: 'INC-20261125-0457',
      occurredAt: '2026-11-25T10:15:00Z',
      callSign: 'BM-421',
      location: { postcode: 'B15 2TT', description: 'Ground-floor flat, entrance at the rear' },
      conveyed: false,
    },
    referrer: {
      name: 'Priya Kaur',
      role: 'Paramedic',
      staffId: 'WM-30417',
      phone: '01632 960123',
      email: 'priya.kaur@example.org',
    },
    subject: {
      givenName: 'Edna',
      familyName: 'Whitfield',
      dateOfBirth: '1939-04-12',
      gender: 'female',
      nhsNumber: '943 476 5919',
      address: { line1: 'Flat 2, 14 Elmdon Road', town: 'Birmingham', postcode: 'B15 2TT' },
      communicationNeeds: 'Hard of hearing; speak slowly and face her.',
    },
    referralType: 'safeguarding',
    categories: ['neglect', 'financial'],
    urgency: 'urgent',
    concern:
      'Called after a fall. Found on the floor, cold, no food in the flat, heating off. Says her nephew ' +
      'collects her pension and she has not seen him for two weeks. Bank cards not in the flat.',
    vulnerabilities: ['frailty', 'dementia'],
    householdChildren: 0,
    allegedPerson: { relationship: 'Nephew', details: 'Collects her pension weekly.' },
    consent: { discussed: true, given: true, capacity: 'has-capacity' },
    actionsTaken: 'Warmed, assessed, not conveyed. GP informed by phone.',
    otherAgencies: 'None yet',
  };
}
