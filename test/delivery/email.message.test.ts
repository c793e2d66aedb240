import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEMO_DIRECTORY_PATH } from '../../src/directory/directory.service.ts';
import {
  composeReferralEmail,
  referralSubject,
  shortAuthorityName,
  type ReferralEmailFacts,
} from '../../src/delivery/messages/referral.email.ts';
import { exampleReferral, type ReferralBody } from '../../src/referrals/referral.example.ts';
import { ReferralInput, type ReferralInputType } from '../../src/referrals/referral.schema.ts';

const ACK = 'http://relay.test/ack/eyJkIjoiZDEifQ.c2ln';
const PORTAL = 'http://relay.test/referrals/0b6f4a52-3f7e-4c1d-9a51-2b8f0c3d4e5f';

/** The referral as intake stores it: parsed by the real schema, so the email sees what Relay keeps. */
function parsed(overrides: Partial<ReferralBody> = {}): ReferralInputType {
  return ReferralInput.parse(exampleReferral(overrides));
}

function facts(
  referral?: ReferralInputType,
  overrides: Partial<ReferralEmailFacts> = {},
): ReferralEmailFacts {
  return {
    reference: 'SR-2026-000123',
    urgency: 'urgent',
    subjectType: 'adult',
    referralType: 'safeguarding',
    categories: ['neglect', 'financial'],
    authorityName: 'Birmingham City Council',
    teamName: 'Birmingham Adult Social Care Front Door',
    receivedAt: '2026-11-25T11:00:00.000Z',
    ackUrl: ACK,
    portalUrl: PORTAL,
    referral,
    ...overrides,
  };
}

describe('shortAuthorityName', () => {
  const expected: Record<string, string> = {
    'Birmingham City Council': 'Birmingham',
    'Coventry City Council': 'Coventry',
    'Dudley Metropolitan Borough Council': 'Dudley',
    'Sandwell Metropolitan Borough Council': 'Sandwell',
    'Solihull Metropolitan Borough Council': 'Solihull',
    'Walsall Council': 'Walsall',
    'City of Wolverhampton Council': 'Wolverhampton',
    'Herefordshire Council': 'Herefordshire',
    'Shropshire Council': 'Shropshire',
    'Telford & Wrekin Council': 'Telford & Wrekin',
    'Stoke-on-Trent City Council': 'Stoke-on-Trent',
    'Staffordshire County Council': 'Staffordshire',
    'Warwickshire County Council': 'Warwickshire',
    'Worcestershire County Council': 'Worcestershire',
  };

  it('shortens every authority of the demo directory to the name a social worker uses', () => {
    const demo = JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as { authorities: { name: string }[] };
    const names = demo.authorities.map((a) => a.name);
    assert.equal(names.length, 14);
    assert.deepEqual([...names].sort(), Object.keys(expected).sort());
    for (const name of names) assert.equal(shortAuthorityName(name), expected[name], name);
  });

  it('leaves a name without a council suffix as it is', () => {
    assert.equal(shortAuthorityName('Isles of Scilly'), 'Isles of Scilly');
    assert.equal(shortAuthorityName('  Rutland  '), 'Rutland');
  });
});

describe('referralSubject', () => {
  it('reads as docs/architecture.md, Delivery, describes', () => {
    assert.equal(
      referralSubject(facts()),
      '[secure] Safeguarding referral SR-2026-000123 — URGENT — adult — Birmingham',
    );
    assert.equal(
      referralSubject(
        facts(undefined, {
          urgency: 'immediate',
          subjectType: 'child',
          authorityName: 'Telford & Wrekin Council',
        }),
      ),
      '[secure] Safeguarding referral SR-2026-000123 — IMMEDIATE — child — Telford & Wrekin',
    );
  });

  it('never carries personal data, whatever the referral holds', () => {
    const name = fc.stringMatching(/^[A-Z][a-z'-]{1,20}$/);
    const baseline = referralSubject(facts());
    fc.assert(
      fc.property(
        name,
        name,
        fc.stringMatching(/^[A-Z0-9 ]{6,8}$/),
        fc.string({ minLength: 1, maxLength: 200 }),
        (given, family, postcode, concern) => {
          const base = exampleReferral();
          const referral = {
            ...parsed(),
            subject: {
              ...base.subject,
              givenName: given,
              familyName: family,
              address: { line1: '1 Any Street', town: 'Anytown', postcode },
            },
            concern,
          } as ReferralInputType;
          const composed = composeReferralEmail(facts(referral));
          assert.equal(composed.subject, baseline, 'the subject does not depend on the referral at all');
          for (const personal of [given, family, postcode, `${given} ${family}`]) {
            if (!baseline.includes(personal))
              assert.equal(composed.subject.includes(personal), false, personal);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('composeReferralEmail with minimal detail', () => {
  const email = composeReferralEmail(facts());

  it('holds the reference, urgency, type, categories, authority, received time and both links', () => {
    for (const part of [email.text, email.html]) {
      for (const wanted of [
        'SR-2026-000123',
        'urgent',
        'safeguarding (adult)',
        'neglect, financial',
        'Birmingham City Council',
        '2026-11-25T11:00:00.000Z',
        ACK,
        PORTAL,
      ]) {
        assert.ok(part.includes(wanted), `missing ${wanted}`);
      }
    }
    assert.match(email.text, new RegExp(`^Acknowledge receipt: ${ACK}$`, 'm'));
    assert.match(email.text, new RegExp(`^Open in the portal: ${PORTAL}$`, 'm'));
    assert.ok(email.html.includes(`<a href="${ACK}">Acknowledge receipt</a>`));
    assert.ok(email.html.includes(`<a href="${PORTAL}">Open in the portal</a>`));
    assert.match(email.text, /this email carries no personal data/);
  });

  it('holds no name, address, NHS number, date of birth or narrative', () => {
    const r = exampleReferral();
    const personal = [
      r.subject.givenName,
      r.subject.familyName,
      '14 Elmdon Road',
      'B15 2TT',
      '943',
      '1939',
      'pension',
      r.referrer.name,
      r.incident.number,
    ];
    for (const part of [email.subject, email.text, email.html]) {
      for (const value of personal) assert.equal(part.includes(value), false, `leaks ${value}`);
      for (const label of ['Name', 'Address', 'NHS number', 'Date of birth', 'Concern', 'Referrer']) {
        assert.equal(new RegExp(`(^|>)${label}(:|<)`, 'm').test(part), false, `has a ${label} row`);
      }
    }
  });
});

describe('composeReferralEmail with full detail', () => {
  it('carries the whole referral', () => {
    const email = composeReferralEmail(facts(parsed()));
    const text = email.text;
    for (const line of [
      'Name: Edna Whitfield',
      'Date of birth: 1939-04-12',
      'Gender: female',
      'NHS number: 9434765919',
      'Address: Flat 2, 14 Elmdon Road, Birmingham, B15 2TT',
      'Communication needs: Hard of hearing; speak slowly and face her.',
      'Incident: INC-20261125-0457 at 2026-11-25T10:15:00Z, B15 2TT',
      'Location: Ground-floor flat, entrance at the rear',
      'Vulnerabilities: frailty, dementia',
      'Children in household: 0',
      'Alleged person: Nephew — Collects her pension weekly.',
      'Consent: discussed: yes, given: yes, capacity: has-capacity',
      'Actions taken: Warmed, assessed, not conveyed. GP informed by phone.',
      'Other agencies: None yet',
      'Referrer: Priya Kaur, Paramedic (WM-30417), 01632 960123, priya.kaur@example.org',
    ]) {
      assert.ok(text.includes(line), `missing "${line}"`);
    }
    assert.ok(text.includes(`Concern: ${exampleReferral().concern}`));
    // Where the person is now, and the crew and ePCR record to call back about, matter to the team.
    assert.match(text, /BM-421/, 'call sign');
    assert.match(text, /Conveyed to hospital: no/);
    assert.match(text, /epcr-demo EPCR-2026-118204/, 'the source record');
    assert.equal(/this email carries no personal data/.test(text), false);
    assert.ok(email.html.includes('<h2>Referral</h2>'));
    assert.ok(email.html.includes('Edna Whitfield'));
  });

  it('shows a subject of no fixed abode and leaves out the fields the crew left out', () => {
    const base = exampleReferral();
    const referral = parsed({
      incident: { number: 'INC-2', occurredAt: '2026-11-25T10:15:00Z', location: { postcode: 'B5 4BU' } },
      subject: { givenName: 'Sam', familyName: 'Doe', ageEstimate: 45, address: { noFixedAbode: true } },
      vulnerabilities: undefined,
      householdChildren: undefined,
      allegedPerson: undefined,
      actionsTaken: undefined,
      otherAgencies: undefined,
      consent: { discussed: true, given: false, capacity: 'lacks-capacity', overrideReason: 'Risk to life' },
      referrer: base.referrer,
    });
    const { text, html } = composeReferralEmail(facts(referral));
    assert.ok(text.includes('Address: No fixed abode'));
    assert.ok(text.includes('Age (estimate): 45'));
    assert.ok(text.includes('Incident: INC-2 at 2026-11-25T10:15:00Z, B5 4BU'));
    assert.ok(text.includes('shared without consent because: Risk to life'));
    for (const label of [
      'Date of birth',
      'Gender',
      'NHS number',
      'Phone',
      'Communication needs',
      'GP',
      'Location',
      'Vulnerabilities',
      'Children in household',
      'Alleged person',
      'Actions taken',
      'Other agencies',
      'Call sign',
      'Conveyed to hospital',
    ]) {
      assert.equal(new RegExp(`^${label}:`, 'm').test(text), false, `${label} row shown though absent`);
    }
    for (const part of [text, html]) assert.equal(/undefined|null|NaN/.test(part), false);
  });

  it('escapes markup from the referral in the HTML part and keeps it verbatim in the text part', () => {
    const concern = 'He said "stop" & <script>alert(\'x\')</script> <img src=x onerror=alert(1)>';
    const referral = parsed({ concern, subject: { ...exampleReferral().subject, givenName: '<b>Edna</b>' } });
    const { text, html } = composeReferralEmail(facts(referral));
    assert.equal(/<script|<img|<b>/i.test(html), false, 'no markup from the referral survives');
    assert.ok(html.includes('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;'));
    assert.ok(html.includes('He said &quot;stop&quot; &amp;'));
    assert.ok(html.includes('&lt;b&gt;Edna&lt;/b&gt;'));
    assert.ok(text.includes(`Concern: ${concern}`));
  });
});
