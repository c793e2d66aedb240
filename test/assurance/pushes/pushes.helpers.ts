import { escalationPushJob } from '../../../src/assurance/jobs/escalation-push.job.ts';
import { sweep } from '../../../src/assurance/watchdog.ts';
import type { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import type { TestRelay } from '../../helpers/relay.ts';

/** One watchdog pass at `at`: the sweep opens what is overdue, then the push job tells people. */
export async function passAt(relay: TestRelay, email: EmailChannel, at: number) {
  relay.clock.set(new Date(at));
  await sweep(relay.ctx);
  return escalationPushJob(email)(relay.ctx, relay.clock.now());
}

/**
 * Marks a referral's deliveries sent, as the dispatcher would have, so that only its missing
 * acknowledgement is left to escalate; returns its route's acknowledge-by time (ms).
 */
export async function sentNotAcknowledged(relay: TestRelay, referralId: string): Promise<number> {
  const db = relay.ctx.db.kysely;
  await db.updateTable('deliveries').set({ state: 'sent' }).where('referral_id', '=', referralId).execute();
  const route = await db
    .selectFrom('routes')
    .select('ack_by')
    .where('referral_id', '=', referralId)
    .executeTakeFirstOrThrow();
  return Date.parse(route.ack_by);
}
