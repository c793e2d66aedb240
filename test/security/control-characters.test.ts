import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { controlCharacterIssues } from '../../src/http/control-characters.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

/** Issue 14, finding 7: control characters are a 422 naming the field on both engines, never a 500. */
interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

describeEachDialect('control characters and charsets', (dialect) => {
  let relay: TestRelay;
  let raisedId = '';
  before(async () => {
    relay = await createTestRelay(dialect);
    const raised = await post(
      '/api/v1/referrals',
      exampleReferral({ source: { system: 'test-epcr', reference: 'CC-0' } }),
    );
    assert.equal(raised.statusCode, 201, raised.body);
    raisedId = (raised.json() as { id: string }).id;
  });
  after(async () => relay.close());

  function post(url: string, payload: unknown, key = relay.epcrKey, contentType = 'application/json') {
    return relay.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }
  const get = (url: string, key = relay.epcrKey) =>
    relay.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  function refused(
    response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    paths: string[],
  ) {
    assert.equal(response.statusCode, 422);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const problem = response.json() as Problem;
    assert.deepEqual(
      problem.errors?.map((e) => e.path),
      paths,
    );
  }

  it('refuses NUL and other controls in a referral body, naming each field, and writes nothing', async () => {
    const before = await rowCounts(relay);
    const base = exampleReferral();
    const response = await post(
      '/api/v1/referrals',
      exampleReferral({
        source: { system: 'test-epcr', reference: 'CC-\u0000-1' },
        subject: { ...base.subject, familyName: 'Whit\u001bfield' },
        concern: 'Found on the floor.\u0000',
      }),
    );
    refused(response, ['concern', 'source.reference', 'subject.familyName']);
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('lets free text keep its line breaks, and refuses them in a single-line field', async () => {
    const base = exampleReferral();
    const multiLine = await post(
      '/api/v1/referrals',
      exampleReferral({
        source: { system: 'test-epcr', reference: 'CC-2' },
        concern: 'Found on the floor.\r\nNo food in the flat.\n\tCold.',
      }),
    );
    assert.equal(multiLine.statusCode, 201, multiLine.body);
    const forged = await post(
      '/api/v1/referrals',
      exampleReferral({
        source: { system: 'test-epcr', reference: 'CC-3' },
        subject: { ...base.subject, givenName: 'Edna\nUrgency: ROUTINE' },
      }),
    );
    refused(forged, ['subject.givenName']);
    assert.match((forged.json() as Problem).errors?.[0]?.message ?? '', /single line/);
  });

  it('refuses controls in paths, queries and cursors', async () => {
    refused(await get('/api/v1/referrals/abc%00def'), ['id']);
    refused(await get('/api/v1/referrals?status=open%00'), ['status']);
    const cursor = Buffer.from(
      JSON.stringify({ updatedAt: '2026-11-25T11:00:00.000Z\u0000', id: 'x' }),
    ).toString('base64url');
    refused(await get(`/api/v1/referrals?cursor=${cursor}`), ['cursor']);
    refused(
      await post(`/api/v1/referrals/${raisedId}/acknowledgements`, { by: 'Dee\u0000' }, relay.teamKey),
      ['by'],
    );
    refused(await post('/api/v1/escalations/x%00/claim', { by: 'Jo' }, relay.teamKey), ['id']);
  });

  it('answers 415 to a body in a charset other than UTF-8', async () => {
    const body = JSON.stringify(exampleReferral({ source: { system: 'test-epcr', reference: 'CC-4' } }));
    const utf16 = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: {
        authorization: `Bearer ${relay.epcrKey}`,
        'content-type': 'application/json; charset=utf-16',
      },
      payload: Buffer.from(body, 'utf16le'),
    });
    assert.equal(utf16.statusCode, 415);
    assert.match(String(utf16.headers['content-type']), /^application\/problem\+json/);
    const latin1 = await post(
      '/api/v1/referrals',
      body,
      relay.epcrKey,
      'application/json; charset=iso-8859-1',
    );
    assert.equal(latin1.statusCode, 415);
    const utf8 = await post('/api/v1/referrals', body, relay.epcrKey, 'application/json; charset=UTF-8');
    assert.equal(utf8.statusCode, 201, utf8.body);
  });

  it('refuses controls in a web form with a 422 page naming the field', async () => {
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const response = await browser.post('/sign-in', {
      email: 'crew\u0000@example.org',
      password: 'whatever it is',
    });
    assert.equal(response.statusCode, 422);
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(response.body, /email/);
  });
});

describe('which strings are judged by which field', () => {
  it('judges array items and all-digit keys by the field that holds them, and nested objects by their own', () => {
    const body = {
      otherAgencies: ['Police\nGP', 'School'],
      details: { '0': 'two\nlines', summary: 'one\nline too many' },
      name: ['Ann\tLee'],
      'bad\nkey': 'x',
      concern: 'fine\r\nhere',
    };
    assert.deepEqual(controlCharacterIssues(body), [
      { path: 'bad?key', message: 'Must be a single line (no line breaks or tabs)' },
      { path: 'details.summary', message: 'Must be a single line (no line breaks or tabs)' },
      { path: 'name.0', message: 'Must be a single line (no line breaks or tabs)' },
    ]);
    assert.deepEqual(controlCharacterIssues(exampleReferral()), [], 'a whole referral has none');
  });

  it('with line breaks allowed everywhere, finds only control characters', () => {
    assert.deepEqual(controlCharacterIssues({ title: 'a\nb', 'k\u2028': 'c' }, { lineBreaks: false }), []);
    assert.deepEqual(controlCharacterIssues({ title: ['a', 'b\u0000'] }, { lineBreaks: false }), [
      { path: 'title.1', message: 'Must not contain control characters' },
    ]);
  });
});
