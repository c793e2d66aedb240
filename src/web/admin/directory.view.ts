import { describeHours } from '../../directory/directory.diff.ts';
import type { Directory, Team } from '../../directory/directory.types.ts';
import { addDays, effectiveHours } from '../../directory/hours.ts';
import { kindName } from './teams.ts';

/** How far ahead an address's re-verification date starts to be flagged. */
export const VERIFY_WARNING_DAYS = 30;

export type VerifyState = 'overdue' | 'due-soon' | 'ok';

/** `today` is the London calendar date: re-verification dates are dates, not instants. */
export function verifyState(verifyBy: string, today: string): VerifyState {
  if (verifyBy < today) return 'overdue';
  return verifyBy <= addDays(today, VERIFY_WARNING_DAYS) ? 'due-soon' : 'ok';
}

/**
 * What the admin pages show of a team. Built field by field, so a webhook's secret can never reach
 * a template by way of a spread.
 */
export function teamView(team: Team, today: string) {
  return {
    id: team.id,
    name: team.name,
    kind: team.kind,
    kindName: kindName(team.kind),
    emailDetail: team.emailDetail,
    addresses: team.channels.flatMap((c) =>
      c.kind === 'email'
        ? [
            {
              role: c.role,
              address: c.address,
              owner: c.owner,
              verifyBy: c.verifyBy,
              state: verifyState(c.verifyBy, today),
            },
          ]
        : [],
    ),
    webhooks: team.channels.flatMap((c) =>
      c.kind === 'webhook'
        ? [{ url: c.url, owner: c.owner, verifyBy: c.verifyBy, state: verifyState(c.verifyBy, today) }]
        : [],
    ),
    meshes: team.channels.flatMap((c) =>
      c.kind === 'mesh'
        ? [
            {
              mailbox: c.mailbox,
              workflowId: c.workflowId,
              owner: c.owner,
              verifyBy: c.verifyBy,
              state: verifyState(c.verifyBy, today),
            },
          ]
        : [],
    ),
    phones: team.phones,
    // As routing reads them: an out-of-hours team with no schedule never closes.
    hours: describeHours(effectiveHours(team)),
  };
}

export type TeamView = ReturnType<typeof teamView>;

export function directoryView(directory: Directory, today: string) {
  const authorities = directory.authorities.map((a) => ({
    id: a.id,
    name: a.name,
    teams: a.teams.map((t) => teamView(t, today)),
  }));
  const destinations = authorities.flatMap((a) =>
    a.teams.flatMap((t) => [...t.addresses, ...t.webhooks, ...t.meshes]),
  );
  return {
    name: directory.name,
    authorities,
    overdue: destinations.filter((d) => d.state === 'overdue').length,
    dueSoon: destinations.filter((d) => d.state === 'due-soon').length,
    coverage: directory.coverage.length,
    bankHolidays: directory.bankHolidays.length,
  };
}
