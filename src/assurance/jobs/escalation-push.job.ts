import type { EmailSender } from '../../delivery/channels/channel.ts';
import { followUpResolved } from '../pushes/follow-up.ts';
import { assignNew, climbLadder, lapseClaims } from '../pushes/push.plan.ts';
import { sendDuePushes } from '../pushes/push.sender.ts';
import type { SweepJob } from '../watchdog.ts';

/**
 * Every sweep, straight after the checks that open escalations: resolutions whose condition still
 * stands re-open, lapsed claims open again, every new escalation is assigned to the person on call,
 * the unclaimed climb the ladder, and the pushes all that queued are sent, so a person is told
 * within the sweep that opened it.
 */
export function escalationPushJob(mailer: EmailSender | undefined): SweepJob {
  return async (ctx, now) => {
    const reopened = await followUpResolved(ctx, now);
    const lapsed = await lapseClaims(ctx, now);
    const assigned = await assignNew(ctx, now);
    const climbed = await climbLadder(ctx, now);
    const sent = await sendDuePushes(ctx, mailer, ctx.clock.now());
    return { reopened, lapsed, assigned, climbed, ...sent };
  };
}
