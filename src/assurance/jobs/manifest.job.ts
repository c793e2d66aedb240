import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import type { EmailSender } from '../../delivery/channels/channel.ts';
import type { Directory } from '../../directory/directory.types.ts';
import { composeManifestEmail } from '../manifest.email.ts';
import { manifestFor, teamsWithReferralsOn } from '../manifest.service.ts';
import type { SweepJob } from '../watchdog.ts';
import { sendOnce, type MailResult } from './direct-mail.ts';
import { londonYesterday, MAX_ATTEMPTS, runOnceInTransaction } from './schedule.ts';

/** Keeps one sweep short: the deadline checks must not wait behind forty emails. */
export const MANIFESTS_PER_SWEEP = 10;

export const manifestJobName = (teamId: string) => `manifest:${teamId}`;

/** Teams whose manifest for the date needs no more work: sent, skipped, or out of attempts. */
async function settledTeams(db: Kysely<Database>, teams: string[], date: string): Promise<Set<string>> {
  if (teams.length === 0) return new Set();
  const rows = await db
    .selectFrom('scheduled_runs')
    .select(['job', 'detail'])
    .where('period', '=', date)
    .where('job', 'in', teams.map(manifestJobName))
    .execute();
  const settled = rows.filter((r) => {
    const d = JSON.parse(r.detail) as { status?: string; attempts?: number };
    return d.status === 'done' || (d.status === 'failed' && (d.attempts ?? 0) >= MAX_ATTEMPTS);
  });
  return new Set(settled.map((r) => r.job.slice('manifest:'.length)));
}

function primaryEmail(directory: Directory | undefined, teamId: string) {
  const team = directory?.authorities.flatMap((a) => a.teams).find((t) => t.id === teamId);
  const channel = team?.channels.find((c) => c.kind === 'email' && c.role === 'primary');
  return team && channel?.kind === 'email' ? { team, address: channel.address } : undefined;
}

async function sendManifest(
  ctx: RelayContext,
  mailer: EmailSender,
  directory: Directory | undefined,
  teamId: string,
  date: string,
): Promise<MailResult> {
  const job = manifestJobName(teamId);
  const to = primaryEmail(directory, teamId);
  if (!to) {
    // A team gone from the directory has no address; the API still serves its manifest.
    const ran = await runOnceInTransaction(ctx.db.kysely, job, date, ctx.clock.now(), async () => ({
      skipped: 'no primary email address in the current directory',
    }));
    return ran ? 'sent' : 'not-claimed';
  }
  const build = async () => {
    const manifest = await manifestFor(ctx.db.kysely, teamId, date);
    const composed = composeManifestEmail({
      manifest,
      teamName: to.team.name,
      apiUrl: `${ctx.config.baseUrl}/api/v1/teams/${teamId}/manifest`,
    });
    return { composed, detail: { date, references: manifest.references.length } };
  };
  return sendOnce(ctx, mailer, { job, period: date, to: to.address, build });
}

/**
 * Once per London day, each team that was sent referrals yesterday gets the list of their references
 * by email (docs/operations.md, Assurance jobs), so both sides can reconcile. Without a mailer the job does nothing; the
 * manifest API works regardless.
 */
export function manifestJob(mailer?: EmailSender): SweepJob {
  let settledDate: string | undefined;
  return async (ctx, now) => {
    const date = londonYesterday(now);
    if (!mailer || settledDate === date) return { sent: 0 };
    const db = ctx.db.kysely;
    const teams = await teamsWithReferralsOn(db, date);
    const settled = await settledTeams(db, teams, date);
    const todo = teams.filter((t) => !settled.has(t));
    if (todo.length === 0) {
      settledDate = date;
      return { sent: 0 };
    }
    const directory = (await ctx.directories.current())?.directory;
    let sent = 0;
    let tried = 0;
    for (const teamId of todo) {
      // A manifest waiting to retry is not claimed and does not use up this sweep's allowance.
      const result = await sendManifest(ctx, mailer, directory, teamId, date);
      if (result === 'sent') sent += 1;
      if (result !== 'not-claimed' && ++tried >= MANIFESTS_PER_SWEEP) break;
    }
    return { sent };
  };
}
