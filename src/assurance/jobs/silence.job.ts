import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { findTeam, type Directory } from '../../directory/directory.types.ts';
import { DAY } from '../../time.ts';
import { openEscalation } from '../../records/escalation.service.ts';
import type { SweepJob } from '../watchdog.ts';
import { londonYesterday, runOnceInTransaction } from './schedule.ts';
import {
  assessSilence,
  WINDOW_DAYS,
  workingElapsed,
  type Silence,
  type TeamActivity,
} from './silence.rules.ts';

export const SILENCE_JOB = 'destination-silence';

/** Every team's routes and acknowledgements of the last 30 days, in two queries. */
async function activityByTeam(db: Kysely<Database>, now: Date): Promise<Map<string, TeamActivity>> {
  const since = new Date(now.getTime() - WINDOW_DAYS * DAY).toISOString();
  const sent = await db
    .selectFrom('routes')
    .select(['team_id', 'created_at', 'ack_by', 'acknowledged_at'])
    .where('created_at', '>=', since)
    .execute();
  const acks = await db
    .selectFrom('routes')
    .select(['team_id', 'acknowledged_at'])
    .where('acknowledged_at', '>=', since)
    .orderBy('acknowledged_at')
    .execute();
  const teams = new Map<string, TeamActivity>();
  const of = (team: string) => {
    let activity = teams.get(team);
    if (!activity) teams.set(team, (activity = { sent: [], acks: [] }));
    return activity;
  };
  for (const r of sent) {
    of(r.team_id).sent.push({
      createdAt: Date.parse(r.created_at),
      ackBy: Date.parse(r.ack_by),
      acknowledgedAt: r.acknowledged_at === null ? null : Date.parse(r.acknowledged_at),
    });
  }
  for (const r of acks) if (r.acknowledged_at) of(r.team_id).acks.push(Date.parse(r.acknowledged_at));
  return teams;
}

/** Teams with a destination-silent escalation still open: one is enough until someone resolves it. */
async function teamsAlreadyEscalated(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db
    .selectFrom('escalations')
    .select('team_id')
    .where('reason', '=', 'destination-silent')
    .where('state', '!=', 'resolved')
    .execute();
  return new Set(rows.map((r) => r.team_id ?? ''));
}

export async function findSilentTeams(
  db: Kysely<Database>,
  directory: Directory | undefined,
  now: Date,
): Promise<{ teamId: string; silence: Silence }[]> {
  const found = [];
  for (const [teamId, activity] of await activityByTeam(db, now)) {
    const elapsed = workingElapsed(findTeam(directory, teamId), directory?.bankHolidays ?? []);
    const silence = assessSilence(activity, now.getTime(), elapsed);
    if (silence) found.push({ teamId, silence });
  }
  return found;
}

/**
 * Once per London day: a destination that stopped acknowledging, or whose acknowledgement rate fell
 * sharply, is an alarm of its own (docs/operations.md, Assurance jobs), since a dead inbox fails every referral sent to it.
 */
export function silenceJob(): SweepJob {
  let settled: string | undefined;
  return async (ctx, now) => {
    const date = londonYesterday(now);
    if (settled === date) return false;
    // Loaded before the transaction: SQLite has one connection, which the transaction holds.
    const directory = (await ctx.directories.current())?.directory;
    const ran = await runOnceInTransaction(ctx.db.kysely, SILENCE_JOB, date, now, async (trx) => {
      const silent = await findSilentTeams(trx, directory, now);
      const open = await teamsAlreadyEscalated(trx);
      const escalated = [];
      for (const { teamId, silence } of silent) {
        if (open.has(teamId)) continue;
        const e = { referralId: null, teamId, reason: 'destination-silent' as const, occasion: date };
        if (await openEscalation(trx, { ...e, detail: { date, ...silence } }, now)) escalated.push(teamId);
      }
      return { date, silent: silent.map((s) => s.teamId), escalated };
    });
    settled = date;
    return ran;
  };
}
