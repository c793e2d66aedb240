import assert from 'node:assert/strict';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import type { TestRelay } from '../helpers/relay.ts';

let counter = 0;

/** Requests and look-ups shared by the acknowledgement, outcome and escalation API tests. */
export function apiClient(relay: TestRelay) {
  const db = () => relay.ctx.db.kysely;
  return {
    db,
    /** A Birmingham adult referral; with children in the household it also goes to children's services. */
    async raise(overrides: Parameters<typeof exampleReferral>[0] = {}) {
      counter += 1;
      const response = await relay.app.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: exampleReferral({
          source: { system: 'test-epcr', reference: `API-${process.pid}-${counter}` },
          ...overrides,
        }),
      });
      assert.equal(response.statusCode, 201, response.body);
      return response.json() as { id: string; reference: string };
    },
    post(url: string, key: string, payload: unknown) {
      return relay.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${key}` },
        payload: payload as Record<string, unknown>,
      });
    },
    acksOf(referralId: string) {
      return db().selectFrom('acknowledgements').selectAll().where('referral_id', '=', referralId).execute();
    },
    async makeKey(name: string, scope: string, teamId?: string): Promise<string> {
      const made = await createApiKey(db(), relay.clock, { name, scope, teamId }, 'test', async () => true);
      return made.key;
    },
  };
}

export function errorPaths(response: { json(): unknown }): string[] {
  return (response.json() as { errors: { path: string }[] }).errors.map((e) => e.path);
}
