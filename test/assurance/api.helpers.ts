import { createApiKey } from '../../src/access/apikey.service.ts';
import type { exampleReferral } from '../../src/referrals/referral.example.ts';
import type { TestRelay } from '../helpers/relay.ts';
import { raise as raiseReferral } from '../helpers/referrals.ts';

let counter = 0;

/** Requests and look-ups shared by the acknowledgement, outcome and escalation API tests. */
export function apiClient(relay: TestRelay) {
  const db = () => relay.ctx.db.kysely;
  return {
    db,
    /** A Birmingham adult referral; with children in the household it also goes to children's services. */
    async raise(overrides: Parameters<typeof exampleReferral>[0] = {}) {
      counter += 1;
      return raiseReferral(relay, {
        source: { system: 'test-epcr', reference: `API-${process.pid}-${counter}` },
        ...overrides,
      });
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
