import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { londonDateTime, parseDateParts, parseTime } from '../../../src/web/crew/form-dates.ts';
import { readForm, toBody, validateForm } from '../../../src/web/crew/referral-form.ts';
import { completeForm } from './crew.helpers.ts';

const NOW = new Date('2026-11-25T11:05:00Z');

/** Pairs as fast-querystring parses a form body: a repeated name becomes a list. */
function posted(pairs: [string, string][]): Record<string, string | string[]> {
  const body: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const prior = body[name];
    body[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return body;
}

function form(overrides: Record<string, string> = {}, extra: [string, string][] = []) {
  return readForm(posted([...completeForm(overrides), ...extra]));
}

describe('the crew form as a referral body', () => {
  it('reads London wall-clock times with the offset in force, summer and winter', () => {
    assert.equal(londonDateTime('2026-11-25', '10:52'), '2026-11-25T10:52:00+00:00');
    assert.equal(londonDateTime('2026-06-25', '10:15'), '2026-06-25T10:15:00+01:00');
    assert.equal(londonDateTime('2026-03-29', '00:30'), '2026-03-29T00:30:00+00:00');
    assert.equal(londonDateTime('2026-03-29', '02:30'), '2026-03-29T02:30:00+01:00');
    assert.equal(londonDateTime('2026-10-25', '00:30'), '2026-10-25T00:30:00+01:00');
    assert.equal(londonDateTime('2026-10-25', '02:30'), '2026-10-25T02:30:00+00:00');
  });

  it('reads dates and times as people type them, and names what is wrong', () => {
    assert.deepEqual(parseDateParts({ day: ' 1', month: '2 ', year: '1950' }, 'Date'), {
      value: '1950-02-01',
    });
    assert.deepEqual(parseDateParts({ day: '', month: '', year: '' }, 'Date'), { empty: true });
    assert.deepEqual(parseDateParts({ day: '30', month: '2', year: '1950' }, 'Date'), {
      problem: 'Date must be a real date',
    });
    assert.deepEqual(parseDateParts({ day: '', month: '2', year: '' }, 'Date'), {
      problem: 'Date must include a day and year',
    });
    assert.deepEqual(parseDateParts({ day: '1', month: '2', year: '50' }, 'Date'), {
      problem: 'Date must include a 4-digit year, for example 1984',
    });
    for (const typed of ['14:30', '14.30', '1430', ' 14 : 30 '])
      assert.deepEqual(parseTime(typed, 'T'), { value: '14:30' });
    assert.deepEqual(parseTime('9:05', 'T'), { value: '09:05' });
    assert.ok('problem' in parseTime('24:00', 'T'));
    assert.ok('problem' in parseTime('2pm', 'T'));
  });

  it('builds the body the API takes, leaving out what was left empty', () => {
    const result = validateForm(form(), NOW);
    assert.ok(result.ok);
    const body = result.body as Record<string, unknown> & { subject: Record<string, unknown> };
    const source = body.source as { system: string; reference: string };
    assert.equal(source.system, 'relay-web');
    assert.match(source.reference, /^[0-9a-f-]{36}$/, 'a fresh key when none was posted');
    assert.equal(body.subject.dateOfBirth, '1939-04-12');
    assert.equal('ageEstimate' in body.subject, false);
    assert.equal('allegedPerson' in body, false);
    assert.equal('householdChildren' in body, false);
    assert.deepEqual(body.categories, ['neglect', 'financial']);
    assert.deepEqual((body.incident as Record<string, unknown>).conveyed, false);
    assert.equal(result.input.subject.nhsNumber, '9434765919', 'parsed as the API would');
  });

  it('takes no fixed abode, an age estimate and a partly known alleged person', () => {
    const values = form(
      {
        'dateOfBirth[day]': '',
        'dateOfBirth[month]': '',
        'dateOfBirth[year]': '',
        ageEstimate: '80',
        noFixedAbode: 'yes',
        allegedRelationship: 'Nephew',
        householdChildren: '2',
      },
      [['categoriesChild', 'neglect']],
    );
    const result = validateForm(values, NOW);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    assert.deepEqual(result.input.subject.address, { noFixedAbode: true });
    assert.equal(result.input.subject.ageEstimate, 80);
    assert.deepEqual(result.input.allegedPerson, { relationship: 'Nephew' });
    assert.equal(result.input.householdChildren, 2);
    assert.deepEqual(result.input.categories, ['neglect', 'financial'], 'ticked in two lists, sent once');
  });

  it('asks for a reason when consent was not given, and a number of children that is a number', () => {
    const result = validateForm(form({ consentGiven: 'no', householdChildren: 'two' }), NOW);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(
      errors.map((e) => [e.id, e.message]),
      [
        ['householdChildren', 'Children in the household must be a whole number from 0 to 30'],
        ['consentOverrideReason', 'Give the reason for referring without consent'],
      ],
    );
  });

  it('keeps only its own controls, and replaces a missing or altered source reference', () => {
    const values = readForm({
      givenName: ['Edna', 'Other'],
      __proto__: 'x',
      sourceReference: 'not-a-uuid',
      extra: 'y',
    });
    assert.equal(values.givenName, 'Edna');
    assert.match(values.sourceReference, /^[0-9a-f-]{36}$/);
    assert.equal('extra' in values, false);
    assert.deepEqual(
      toBody(values)
        .issues.map((i) => i.id)
        .sort(),
      ['incidentDate', 'incidentTime'],
    );
  });

  it('names both the date of birth and the age estimate when they contradict each other', () => {
    const result = validateForm(form({ ageEstimate: '30' }), NOW);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((e) => e.id),
      ['dateOfBirth', 'ageEstimate'],
    );
    assert.match(result.errors[0]!.message, /age estimate/);
    assert.match(result.errors[1]!.message, /date of birth/);
  });

  it('names every adult category ticked for a child, beside the list they were ticked in', () => {
    const child = readForm(
      posted([
        ...completeForm({ 'dateOfBirth[year]': '2015' }).filter(([name]) => name !== 'categoriesAdult'),
        ['categoriesAdult', 'financial'],
        ['categoriesAdult', 'self-neglect'],
      ]),
    );
    const result = validateForm(child, NOW);
    assert.ok(!result.ok);
    const adult = result.errors.find((e) => e.id === 'categoriesAdult');
    assert.match(adult?.message ?? '', /Financial/);
    assert.match(adult?.message ?? '', /Self-neglect/);
  });

  it('takes an NHS number typed with dashes, and sends the ten digits', () => {
    const result = validateForm(form({ nhsNumber: '943-476-5919' }), NOW);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    assert.equal(result.input.subject.nhsNumber, '9434765919');
  });
});
