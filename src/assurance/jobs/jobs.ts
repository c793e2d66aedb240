import type { EmailSender } from '../../delivery/delivery.sender.ts';
import { toError } from '../../errors.ts';
import { retentionJob } from '../../governance/retention.job.ts';
import type { SweepJob, WatchdogLogger } from '../watchdog.ts';
import { dailySummaryJob } from './daily-summary.job.ts';
import { manifestJob } from './manifest.job.ts';
import { rotaGapJob } from './rota-gap.job.ts';
import { silenceJob } from './silence.job.ts';
import { testAlertsJob } from './test-alerts.job.ts';
import { volumeJob } from './volume.job.ts';

/**
 * The assurance jobs that run after every watchdog sweep. The checks that open escalations come
 * before the emails, so the daily summary counts what they found. Each job is isolated: one that
 * throws is logged and the rest still run, and the watchdog still records its heartbeat, because
 * a broken daily report must not make the deadline sweeps look dead.
 */
export function assuranceJobs(mailer: EmailSender | undefined, logger: WatchdogLogger): SweepJob[] {
  const jobs: [string, SweepJob][] = [
    ['volume-check', volumeJob()],
    ['destination-silence', silenceJob()],
    ['test-alerts', testAlertsJob()],
    ['manifest', manifestJob(mailer)],
    ['rota-gap', rotaGapJob()],
    ['daily-summary', dailySummaryJob(mailer)],
    ['retention-purge', retentionJob()],
  ];
  return jobs.map(([name, job]) => async (ctx, now) => {
    try {
      return await job(ctx, now);
    } catch (error) {
      logger.error(
        { job: name, err: toError(error).message },
        'assurance job failed; will try again next sweep',
      );
      return undefined;
    }
  });
}
