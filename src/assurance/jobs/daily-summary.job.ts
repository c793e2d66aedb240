import type { EmailSender } from '../../delivery/channels/channel.ts';
import { formatAnchor, signAnchor } from '../../records/audit.ts';
import type { SweepJob } from '../watchdog.ts';
import { composeDailySummaryEmail } from './daily-summary.email.ts';
import { dailyCounts } from './daily-summary.queries.ts';
import { sendOnce } from './direct-mail.ts';
import { isSettled, londonTimeReached, londonYesterday } from './schedule.ts';

export const DAILY_SUMMARY_JOB = 'daily-summary';

/**
 * Once per London day after DAILY_SUMMARY_AT: yesterday's counts to SAFEGUARDING_EMAIL (docs/operations.md, Assurance jobs).
 * It also carries the audit log's head hash. The chain proves that no entry was changed behind a
 * head, but someone able to rewrite the database could rebuild the whole chain and its head; a copy
 * of the head mailed out every day is out of their reach, so any such rewrite shows up against it.
 * The head goes as a signed anchor (`relay audit verify --anchor` checks the chain against it).
 * Off when SAFEGUARDING_EMAIL is unset or no mailer is given.
 */
export function dailySummaryJob(mailer?: EmailSender): SweepJob {
  let settled: string | undefined;
  return async (ctx, now) => {
    const to = ctx.config.assurance.safeguardingEmail;
    const date = londonYesterday(now);
    if (!mailer || !to || settled === date) return 'off';
    if (!londonTimeReached(now, ctx.config.assurance.dailySummaryAt)) return 'not-yet';
    if (await isSettled(ctx.db.kysely, DAILY_SUMMARY_JOB, date)) {
      settled = date;
      return 'not-claimed';
    }
    const build = async () => {
      const counts = await dailyCounts(ctx.db.kysely, date, now);
      const anchor =
        counts.audit &&
        formatAnchor(signAnchor(ctx.config.auditKey, counts.audit.seq, counts.audit.hash, now));
      return {
        composed: composeDailySummaryEmail(counts, ctx.config.baseUrl, anchor ?? undefined),
        detail: { ...counts },
      };
    };
    const result = await sendOnce(ctx, mailer, { job: DAILY_SUMMARY_JOB, period: date, to, build });
    if (result === 'sent') settled = date;
    return result;
  };
}
