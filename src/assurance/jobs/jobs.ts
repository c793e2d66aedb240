import type { EmailSender } from '../../delivery/channels/channel.ts';
import { retentionJob } from './retention.job.ts';
import type { NamedSweepJob, SweepJob } from '../watchdog.ts';
import { dailySummaryJob } from './daily-summary.job.ts';
import { escalationPushJob } from './escalation-push.job.ts';
import { directoryStaleJob } from './directory-stale.job.ts';
import { manifestJob } from './manifest.job.ts';
import { meshTrackingJob } from './mesh-tracking.job.ts';
import { rotaGapJob } from './rota-gap.job.ts';
import { silenceJob } from './silence.job.ts';
import { testAlertsJob } from './test-alerts.job.ts';
import { volumeJob } from './volume.job.ts';

/**
 * The assurance jobs that run after every watchdog sweep. The checks that open escalations come
 * before the emails, so the daily summary counts what they found. The watchdog runs each on its
 * own: one that throws is logged and counted and the rest still run, and the sweep still counts as
 * completed, because a broken daily report must not make the deadline sweeps look dead.
 */
export function assuranceJobs(mailer: EmailSender | undefined): NamedSweepJob[] {
  const jobs: [string, SweepJob][] = [
    ['mesh-tracking', meshTrackingJob()],
    ['volume-check', volumeJob()],
    ['destination-silence', silenceJob()],
    ['test-alerts', testAlertsJob()],
    ['manifest', manifestJob(mailer)],
    ['rota-gap', rotaGapJob()],
    ['directory-stale', directoryStaleJob()],
    ['escalation-push', escalationPushJob(mailer)],
    ['daily-summary', dailySummaryJob(mailer)],
    ['retention-purge', retentionJob()],
  ];
  return jobs.map(([name, run]) => ({ name, run }));
}
