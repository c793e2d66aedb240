import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readPayload } from '../../../src/referrals/referral.access.ts';
import { DIALECTS } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { completeForm, hiddenFields, referralCount, signedIn, type Browser } from './crew.helpers.ts';

const SECTIONS = [
  'Incident',
  'You',
  'The person at risk',
  'The concern',
  'Consent',
  'Actions and other agencies',
];

/** The page with runs of whitespace as one space: the NHS macros indent generously. */
function html(response: { body: string }): string {
  return response.body.replace(/\s+/g, ' ');
}

/** The error message the NHS macros put beside a control: `<id>-error` (radios and checkboxes: their idPrefix). */
function errorBeside(response: { body: string }, id: string): string | undefined {
  const pattern = `id="${id}-error"[^>]*> <span class="nhsuk-u-visually-hidden">Error: </span>([^<]*)`;
  return new RegExp(pattern).exec(html(response))?.[1]?.trim();
}

for (const dialect of DIALECTS) {
  describe(`raising a referral in the web app [${dialect}]`, () => {
    let relay: TestRelay;
    let crew: Browser;
    let crewId: string;
    before(async () => {
      // Ten to fifteen minutes after the incident the form describes (10:52 London, which is UTC in November).
      relay = await createTestRelay(dialect, { now: '2026-11-25T11:05:00Z' });
      const signed = await signedIn(relay, 'priya.kaur@example.org');
      crew = signed.browser;
      crewId = signed.user.id;
    });
    after(async () => relay.close());

    it('sends a signed-out visitor to sign in, and refuses other roles', async () => {
      const anonymous = await relay.app.inject({ method: 'GET', url: '/crew/referrals/new' });
      assert.equal(anonymous.statusCode, 303);
      assert.equal(anonymous.headers.location, `/sign-in?next=${encodeURIComponent('/crew/referrals/new')}`);
      for (const role of ['recipient', 'admin'] as const) {
        const { browser } = await signedIn(relay, `${role}@example.org`, [role]);
        for (const url of ['/crew/referrals/new', '/crew/referrals']) {
          const refused = await browser.get(url);
          assert.equal(refused.statusCode, 403, `${role} ${url}`);
        }
        const post = await browser.post('/crew/referrals/check', completeForm());
        assert.equal(post.statusCode, 403, `${role} posting the form`);
      }
    });

    it('shows every section, a label for every control, a fresh source reference and my details', async () => {
      const page = await crew.get('/crew/referrals/new');
      assert.equal(page.statusCode, 200);
      for (const legend of SECTIONS) {
        assert.match(
          html(page),
          new RegExp(`<legend class="nhsuk-fieldset__legend[^"]*">\\s*${legend}\\s*</legend>`),
        );
      }
      const controls = [
        ...html(page).matchAll(/<(?:input|textarea)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"/g),
      ];
      assert.ok(controls.length > 60, `found ${controls.length} controls`);
      for (const [, id] of controls)
        assert.match(html(page), new RegExp(`<label[^>]*for="${id}"`), `label for ${id}`);
      for (const id of [
        'incidentDate-day',
        'incidentTime',
        'dateOfBirth-year',
        'concern',
        'urgency',
        'categoriesChild',
      ]) {
        assert.ok(
          controls.some(([, c]) => c === id),
          `control ${id}`,
        );
      }
      const reference = /name="sourceReference" value="([^"]+)"/.exec(page.body)?.[1];
      assert.match(reference ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const again = await crew.get('/crew/referrals/new');
      assert.notEqual(/name="sourceReference" value="([^"]+)"/.exec(again.body)?.[1], reference);
      assert.match(html(page), /id="referrerName" name="referrerName"[^>]*value="priya.kaur"/);
      assert.match(html(page), /id="referrerEmail" name="referrerEmail"[^>]*value="priya.kaur@example.org"/);
      assert.match(html(page), /You can enter up to 10000 characters/);
    });

    it('rejects an empty form with every problem named beside its control, and writes nothing', async () => {
      await crew.get('/crew/referrals/new');
      const response = await crew.post('/crew/referrals/new', {});
      assert.equal(response.statusCode, 422);
      assert.match(html(response), /<title>Error: /);
      assert.match(html(response), /nhsuk-error-summary/);
      const expected: Record<string, RegExp> = {
        incidentNumber: /Enter the incident number/,
        incidentDate: /Enter the date of the incident/,
        incidentTime: /Enter the time of the incident/,
        incidentPostcode: /Enter the postcode where the incident happened/,
        referrerRole: /Enter your role/,
        givenName: /Enter the person's given name|Enter the person&#39;s given name/,
        familyName: /family name/,
        dateOfBirth: /Give a date of birth, or an age estimate/,
        addressLine1: /Enter the first line of the address/,
        referralType: /Select the type of referral/,
        categoriesAdult: /Select at least one category/,
        urgency: /Select how urgent this is/,
        concern: /Describe the concern/,
        consentDiscussed: /Select whether you discussed/,
        consentGiven: /Select whether the person consented/,
        consentCapacity: /Select whether the person has capacity/,
      };
      for (const [id, message] of Object.entries(expected)) {
        assert.match(errorBeside(response, id) ?? '', message, `error beside ${id}`);
      }
      for (const href of [
        'incidentDate-day',
        'givenName',
        'categoriesAdult',
        'urgency',
        'consentDiscussed',
      ]) {
        assert.match(html(response), new RegExp(`<a href="#${href}"`), `summary links to ${href}`);
      }
      assert.equal(await referralCount(relay), 0);
    });

    it('keeps what was typed and explains date, postcode, NHS number and category problems', async () => {
      await crew.get('/crew/referrals/new');
      const response = await crew.post(
        '/crew/referrals/new',
        completeForm({
          'dateOfBirth[month]': '',
          incidentTime: '25:70',
          addressPostcode: 'B15',
          nhsNumber: '943 476 5918',
        }),
      );
      assert.equal(response.statusCode, 422);
      assert.match(errorBeside(response, 'dateOfBirth') ?? '', /Date of birth must include a month/);
      assert.match(errorBeside(response, 'incidentTime') ?? '', /must be a real time/);
      assert.match(
        errorBeside(response, 'addressPostcode') ?? '',
        /Home postcode must be a full UK postcode/,
      );
      assert.match(errorBeside(response, 'nhsNumber') ?? '', /NHS number must be a valid 10-digit/);
      assert.equal(errorBeside(response, 'givenName'), undefined);
      assert.match(html(response), /id="givenName" name="givenName"[^>]*value="Edna"/);
      assert.match(
        html(response),
        /id="categoriesAdult-5" name="categoriesAdult" type="checkbox" value="financial" checked/,
      );
      assert.match(response.body, /Found on the floor, cold, no food in the flat.\nSays her nephew/);
      assert.equal(await referralCount(relay), 0);
    });

    it("names a child's category ticked for an adult beside the list it was ticked in", async () => {
      await crew.get('/crew/referrals/new');
      const response = await crew.post('/crew/referrals/new', [
        ...completeForm(),
        ['categoriesChild', 'emotional'],
      ]);
      assert.equal(response.statusCode, 422);
      assert.match(
        errorBeside(response, 'categoriesChild') ?? '',
        /Emotional abuse: this category applies to child/,
      );
      assert.equal(errorBeside(response, 'categoriesAdult'), undefined);
    });

    it('rejects an incident time in the future by the relay clock', async () => {
      await crew.get('/crew/referrals/new');
      const response = await crew.post('/crew/referrals/new', completeForm({ incidentTime: '11:30' }));
      assert.equal(response.statusCode, 422);
      assert.match(errorBeside(response, 'incidentDate') ?? '', /must not be in the future/);
    });

    it('checks, sends once, and confirms with the reference and the team it went to', async () => {
      await crew.get('/crew/referrals/new');
      const posted = await crew.post('/crew/referrals/check', completeForm());
      assert.equal(posted.statusCode, 303, posted.body.slice(0, 500));
      const checkUrl = posted.headers.location as string;
      assert.match(
        checkUrl,
        /^\/crew\/referrals\/drafts\/[0-9a-f-]{36}\/check$/,
        'the check page has its own address',
      );
      const check = await crew.get(checkUrl);
      assert.equal(check.statusCode, 200, check.body.slice(0, 500));
      assert.match(html(check), /Check your referral before sending it/);
      assert.match(html(check), /nhsuk-summary-list/);
      assert.match(html(check), /B15 2TT/, 'the postcode as it will be sent');
      assert.match(html(check), /25 Nov 2026, 10:52/);
      assert.match(html(check), /formaction="\/crew\/referrals\/edit#givenName"/);
      assert.equal(check.headers['cache-control'], 'no-store');
      const draft = hiddenFields(check.body);
      assert.ok(draft.filter(([name]) => name === 'categoriesAdult').length === 2);

      const sent = await crew.post('/crew/referrals/submit', draft);
      assert.equal(sent.statusCode, 303, sent.body.slice(0, 500));
      const location = sent.headers.location as string;
      const id = /^\/crew\/referrals\/([0-9a-f-]{36})\/confirmation$/.exec(location)?.[1];
      assert.ok(id, location);

      const confirmation = await crew.get(location);
      assert.equal(confirmation.statusCode, 200);
      assert.match(html(confirmation), /nhsuk-panel/);
      assert.match(html(confirmation), /SR-2026-000001/);
      assert.match(html(confirmation), /Birmingham/);

      const row = await relay.ctx.db.kysely
        .selectFrom('referrals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(row.raised_by_user, crewId);
      assert.equal(row.source_system, 'relay-web');
      assert.equal(row.source_reference, draft.find(([name]) => name === 'sourceReference')?.[1]);
      const payload = readPayload(relay.ctx.config.dataKeys, row) as {
        incident: { occurredAt: string };
        concern: string;
      };
      assert.equal(payload.incident.occurredAt, '2026-11-25T10:52:00+00:00');
      assert.equal(payload.concern.includes('\r'), false);
      const routes = await relay.ctx.db.kysely
        .selectFrom('routes')
        .select('team_id')
        .where('referral_id', '=', id)
        .execute();
      assert.deepEqual(
        routes.map((r) => r.team_id),
        ['birmingham-adults'],
      );

      const again = await crew.post('/crew/referrals/submit', draft);
      assert.equal(again.statusCode, 303, 'a double submit answers as the first did');
      assert.equal(again.headers.location, location);
      assert.equal(await referralCount(relay), 1);

      // Back from the confirmation: the check page's address now leads to the confirmation again.
      const back = await crew.get(checkUrl);
      assert.equal(back.statusCode, 303);
      assert.equal(back.headers.location, location);
      const drafts = await relay.ctx.db.kysely.selectFrom('referral_drafts').selectAll().execute();
      assert.deepEqual(
        drafts.filter((d) => d.id === row.source_reference),
        [],
        'the sent draft is gone',
      );
    });

    it('returns to the form with every answer kept from a "Change" button', async () => {
      await crew.get('/crew/referrals/new');
      const posted = await crew.post(
        '/crew/referrals/check',
        completeForm({ givenName: 'Ada "Nan" <Lovelace>' }),
      );
      const check = await crew.get(posted.headers.location as string);
      assert.equal(check.statusCode, 200);
      const changed = await crew.post('/crew/referrals/edit', hiddenFields(check.body));
      assert.equal(changed.statusCode, 303);
      assert.match(changed.headers.location as string, /^\/crew\/referrals\/drafts\/[0-9a-f-]{36}$/);
      const edit = await crew.get(changed.headers.location as string);
      assert.equal(edit.statusCode, 200);
      assert.match(html(edit), /value="Ada &quot;Nan&quot; &lt;Lovelace&gt;"/);
      assert.match(html(edit), /value="neglect" checked/);
      assert.match(html(edit), /id="urgency-2" name="urgency" type="radio" value="urgent" checked/);
      assert.equal(errorBeside(edit, 'givenName'), undefined);
    });

    it('refuses a changed draft under a source reference already sent, and writes nothing', async () => {
      const before = await referralCount(relay);
      await crew.get('/crew/referrals/new');
      const posted = await crew.post('/crew/referrals/check', completeForm());
      const draft = hiddenFields((await crew.get(posted.headers.location as string)).body);
      assert.equal((await crew.post('/crew/referrals/submit', draft)).statusCode, 303);
      const changed = draft.map(([n, v]): [string, string] => [n, n === 'urgency' ? 'routine' : v]);
      const conflict = await crew.post('/crew/referrals/submit', changed);
      assert.equal(conflict.statusCode, 409);
      assert.match(html(conflict), /already been sent/);
      assert.equal(await referralCount(relay), before + 1);
    });

    it('refuses a post without its CSRF token', async () => {
      const response = await relay.app.inject({
        method: 'POST',
        url: '/crew/referrals/submit',
        payload: new URLSearchParams(completeForm()).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(response.statusCode, 403);
    });
  });
}
