import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { apiClient, errorPaths } from './api.helpers.ts';

describeEachDialect('a "redirected" outcome through the API re-routes the referral', (dialect) => {
  let relay: TestRelay;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    relay = await createTestRelay(dialect);
    api = apiClient(relay);
  });
  after(async () => relay.close());

  it('needs the team it goes to, and then hands it over instead of closing it', async () => {
    const { id } = await api.raise();
    const missing = await api.post(`/api/v1/referrals/${id}/outcomes`, relay.teamKey, {
      outcome: 'redirected',
      note: 'Lives in Coventry',
    });
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(errorPaths(missing), ['redirectTo']);
    const moved = await api.post(`/api/v1/referrals/${id}/outcomes`, relay.teamKey, {
      outcome: 'redirected',
      note: 'Lives in Coventry',
      redirectTo: 'coventry-adults',
    });
    assert.equal(moved.statusCode, 201, moved.body);
    assert.equal(moved.json().redirectedTo, 'coventry-adults');
    const routes = await api
      .db()
      .selectFrom('routes')
      .select(['team_id', 'outcome', 'reason'])
      .where('referral_id', '=', id)
      .orderBy('position')
      .execute();
    assert.deepEqual(
      routes.map((r) => [r.team_id, r.outcome, r.reason]),
      [
        ['birmingham-adults', 'redirected', 'subject-type'],
        ['coventry-adults', null, 'redirected'],
      ],
    );
    const referral = await api
      .db()
      .selectFrom('referrals')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.notEqual(referral.status, 'closed', 'a redirect never closes the referral');
    const queued = await api
      .db()
      .selectFrom('deliveries')
      .select('state')
      .where('referral_id', '=', id)
      .where('team_id', '=', 'coventry-adults')
      .execute();
    assert.ok(queued.length > 0 && queued.every((d) => d.state === 'queued'));
  });
});
