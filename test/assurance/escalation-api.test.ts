import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EscalationReason } from '../../src/db/codes.ts';
import { openEscalation } from '../../src/records/escalation.service.ts';
import { RelayError } from '../../src/errors.ts';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { DIALECTS } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { apiClient, errorPaths } from './api.helpers.ts';

for (const dialect of DIALECTS) {
  describe(`escalations API [${dialect}]`, () => {
    let relay: TestRelay;
    let api: ReturnType<typeof apiClient>;
    let escalationsKey: string;

    before(async () => {
      relay = await createTestRelay(dialect);
      api = apiClient(relay);
      escalationsKey = await api.makeKey('safeguarding tooling', 'escalations:write');
    });
    after(async () => relay.close());

    const db = () => relay.ctx.db.kysely;
    const raise = (overrides?: Parameters<typeof api.raise>[0]) => api.raise(overrides);
    const post = (url: string, key: string, payload: unknown) => api.post(url, key, payload);
    const acksOf = (referralId: string) => api.acksOf(referralId);

    async function escalate(referralId: string | null, teamId: string | null, reason: EscalationReason) {
      await db()
        .transaction()
        .execute((trx) => openEscalation(trx, { referralId, teamId, reason }, relay.clock.now()));
      const row = await db()
        .selectFrom('escalations')
        .select('id')
        .where('reason', '=', reason)
        .where('referral_id', referralId ? '=' : 'is', referralId)
        .executeTakeFirstOrThrow();
      return row.id;
    }
    const list = (query = '', key = escalationsKey) =>
      relay.app.inject({
        method: 'GET',
        url: `/api/v1/escalations${query}`,
        headers: { authorization: `Bearer ${key}` },
      });

    it('lists escalations with the team phone numbers, filtered by state and reason', async () => {
      const { id, reference } = await raise();
      const notAcked = await escalate(id, 'birmingham-adults', 'not-acknowledged');
      await escalate(id, 'birmingham-adults', 'failed');

      assert.equal((await list('', relay.teamKey)).statusCode, 403);
      assert.equal((await list('?state=shut')).statusCode, 400);
      const open = await list('?state=open&reason=not-acknowledged');
      assert.equal(open.statusCode, 200, open.body);
      const items = (open.json() as { items: Record<string, unknown>[] }).items;
      assert.ok(items.every((i) => i.reason === 'not-acknowledged' && i.state === 'open'));
      assert.deepEqual(
        items.find((i) => i.id === notAcked),
        {
          id: notAcked,
          reference,
          referralId: id,
          team: 'birmingham-adults',
          teamName: 'Birmingham Adult Social Care Front Door',
          reason: 'not-acknowledged',
          state: 'open',
          openedAt: relay.clock.now().toISOString(),
          claimedBy: null,
          claimedAt: null,
          resolvedBy: null,
          resolvedAt: null,
          note: null,
          phones: [
            { label: 'Duty desk', number: '01632 960100' },
            { label: 'Team manager', number: '01632 960101' },
          ],
          assignedTo: null,
          rung: 0,
          previousId: null,
          followUpAt: null,
        },
      );
    });

    it('claims an escalation once: a second claim is a 409 state-conflict', async () => {
      const { id } = await raise();
      const escalation = await escalate(id, 'birmingham-adults', 'not-acknowledged');
      const claim = await post(`/api/v1/escalations/${escalation}/claim`, escalationsKey, {
        by: 'Dana Brooks',
      });
      assert.equal(claim.statusCode, 200, claim.body);
      assert.equal(claim.json().state, 'claimed');
      assert.equal(claim.json().claimedBy, 'Dana Brooks');
      assert.equal(claim.json().claimedAt, relay.clock.now().toISOString());
      const twice = await post(`/api/v1/escalations/${escalation}/claim`, escalationsKey, {
        by: 'Lee Hart',
      });
      assert.equal(twice.statusCode, 409);
      assert.match((twice.json() as { type: string }).type, /state-conflict$/);
      const row = await db()
        .selectFrom('escalations')
        .selectAll()
        .where('id', '=', escalation)
        .executeTakeFirstOrThrow();
      assert.equal(row.claimed_by, 'Dana Brooks');
      assert.equal(
        (await post('/api/v1/escalations/nope/claim', escalationsKey, { by: 'Lee' })).statusCode,
        404,
      );
      assert.deepEqual(
        errorPaths(await post(`/api/v1/escalations/${escalation}/claim`, escalationsKey, {})),
        ['by'],
      );
    });

    it('resolves only with a note, and with a name when receipt was confirmed by phone', async () => {
      const { id } = await raise();
      const escalation = await escalate(id, 'birmingham-adults', 'not-acknowledged');
      const url = `/api/v1/escalations/${escalation}/resolve`;
      const noNote = await post(url, escalationsKey, { by: 'Dana Brooks', note: ' ' });
      assert.equal(noNote.statusCode, 422);
      assert.deepEqual(errorPaths(noNote), ['note']);
      const noName = await post(url, escalationsKey, {
        by: 'Dana Brooks',
        note: 'Rang the duty desk.',
        receiptConfirmedByPhone: true,
      });
      assert.equal(noName.statusCode, 422);
      assert.deepEqual(errorPaths(noName), ['confirmedBy']);
      const row = await db()
        .selectFrom('escalations')
        .selectAll()
        .where('id', '=', escalation)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'open');
      assert.equal((await acksOf(id)).length, 0);

      const resolved = await post(url, escalationsKey, { by: 'Dana Brooks', note: 'Team emailed back.' });
      assert.equal(resolved.statusCode, 200, resolved.body);
      assert.equal(resolved.json().state, 'resolved');
      assert.equal(resolved.json().note, 'Team emailed back.');
      assert.equal(resolved.json().acknowledgement, undefined, 'resolving alone acknowledges nothing');
      assert.equal((await acksOf(id)).length, 0);
      const again = await post(url, escalationsKey, { by: 'Lee Hart', note: 'Again.' });
      assert.equal(again.statusCode, 409);
    });

    it("receipt confirmed by phone acknowledges for the team and resolves the team's other escalations", async () => {
      const { id } = await raise();
      const notAcked = await escalate(id, 'birmingham-adults', 'not-acknowledged');
      const failed = await escalate(id, 'birmingham-adults', 'failed');
      await post(`/api/v1/escalations/${notAcked}/claim`, escalationsKey, { by: 'Dana Brooks' });
      relay.clock.advance(5 * 60_000);
      const resolved = await post(`/api/v1/escalations/${notAcked}/resolve`, escalationsKey, {
        by: 'Dana Brooks',
        note: 'Rang the duty desk; Pat Lee has it.',
        receiptConfirmedByPhone: true,
        confirmedBy: 'Pat Lee',
      });
      assert.equal(resolved.statusCode, 200, resolved.body);
      const body = resolved.json();
      assert.equal(body.state, 'resolved');
      assert.equal(body.resolvedBy, 'Dana Brooks');
      assert.equal(body.note, 'Rang the duty desk; Pat Lee has it.');
      assert.deepEqual(body.acknowledgement, {
        acknowledged: true,
        acknowledgedAt: relay.clock.now().toISOString(),
        by: 'Pat Lee',
      });
      const acks = await acksOf(id);
      assert.equal(acks.length, 1);
      assert.equal(acks[0]?.method, 'phone');
      assert.equal(acks[0]?.by_name, 'Pat Lee');
      const other = await db()
        .selectFrom('escalations')
        .selectAll()
        .where('id', '=', failed)
        .executeTakeFirstOrThrow();
      assert.equal(other.state, 'resolved');
      assert.match(other.note ?? '', /phone \(Pat Lee\)/);
      const referral = await db()
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(referral.status, 'acknowledged');
      const ids = ((await list('?state=resolved')).json() as { items: { id: string }[] }).items.map(
        (i) => i.id,
      );
      assert.ok(ids.includes(notAcked) && ids.includes(failed));
    });

    it('refuses "receipt confirmed by phone" on an escalation that is not about a team', async () => {
      const { id } = await raise();
      const triage = await escalate(id, null, 'triage-overdue');
      const response = await post(`/api/v1/escalations/${triage}/resolve`, escalationsKey, {
        by: 'Dana Brooks',
        note: 'Routed by hand.',
        receiptConfirmedByPhone: true,
        confirmedBy: 'Pat Lee',
      });
      assert.equal(response.statusCode, 422);
      assert.deepEqual(errorPaths(response), ['receiptConfirmedByPhone']);
      const plain = await post(`/api/v1/escalations/${triage}/resolve`, escalationsKey, {
        by: 'Dana Brooks',
        note: 'Routed by hand.',
      });
      assert.equal(plain.statusCode, 200);
      assert.equal(plain.json().phones.length, 0);
      assert.equal(plain.json().team, null);
    });

    it('keeps escalations:write keys unbound to a team', async () => {
      await assert.rejects(
        createApiKey(
          db(),
          relay.clock,
          { name: 'bound', scope: 'escalations:write', teamId: 'birmingham-adults' },
          'test',
          async () => true,
        ),
        (e: unknown) => e instanceof RelayError && e.code === 'validation-failed',
      );
    });
  });
}
