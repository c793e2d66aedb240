import type { RelayContext } from '../../context.ts';
import type { User } from '../../access/user.service.ts';
import { OUTCOME_LABELS } from './inbox.forms.ts';
import {
  COUNT_CAP,
  countSections,
  listSection,
  PAGE_SIZE,
  SECTIONS,
  type InboxRow,
  type Section,
} from './inbox.queries.ts';

export const SECTION_TITLES: Record<Section, string> = {
  new: 'New (not acknowledged)',
  due: 'Acknowledged, outcome due',
  done: 'Done',
};

export interface InboxQuery {
  team?: string;
  view?: string;
  page?: string;
}

/** Team names from the current directory; an id still shows when a team has since been removed. */
export async function teamNamer(ctx: RelayContext): Promise<(id: string) => string> {
  const current = await ctx.directories.current();
  const names = new Map(
    current?.directory.authorities.flatMap((a) => a.teams.map((t) => [t.id, t.name] as const)),
  );
  return (id) => names.get(id) ?? id;
}

/** A pile's size as its link shows it: exact up to the cap, past it only that it is larger. */
function countText(count: number): string {
  return count > COUNT_CAP ? `more than ${COUNT_CAP.toLocaleString('en-GB')}` : String(count);
}

function readQuery(query: InboxQuery, user: User) {
  // Only the user's own teams can be chosen: anything else shows all of theirs, never another team's.
  const team = query.team && user.teams.includes(query.team) ? query.team : undefined;
  const section = (SECTIONS as readonly string[]).includes(query.view ?? '')
    ? (query.view as Section)
    : 'new';
  const page = Math.max(1, Math.min(10_000, Number.parseInt(query.page ?? '1', 10) || 1));
  return { team, section, page };
}

function href(params: { team?: string; section: Section; page?: number }): string {
  const search = new URLSearchParams();
  if (params.team) search.set('team', params.team);
  search.set('view', params.section);
  if (params.page && params.page > 1) search.set('page', String(params.page));
  return `/inbox?${search.toString()}`;
}

function rowView(row: InboxRow, now: string, teamName: (id: string) => string) {
  return {
    href: `/inbox/referrals/${encodeURIComponent(row.referralId)}?team=${encodeURIComponent(row.teamId)}`,
    reference: row.reference,
    urgency: row.urgency,
    status: row.status,
    teamName: teamName(row.teamId),
    redirectedHere: row.reason === 'redirected',
    receivedAt: row.receivedAt,
    ackBy: row.ackBy,
    overdue: row.acknowledgedAt === null && row.ackBy <= now,
    acknowledgedLate: row.acknowledgedAt !== null && row.acknowledgedAt > row.ackBy,
    outcome: row.outcome ? (OUTCOME_LABELS[row.outcome] ?? row.outcome) : null,
    outcomeAt: row.outcomeAt,
  };
}

/** The data of GET /inbox: one section of the chosen team's (or all the user's teams') referrals, a page at a time. */
export async function inboxPage(ctx: RelayContext, user: User, query: InboxQuery) {
  const { team, section, page } = readQuery(query, user);
  const teams = team ? [team] : user.teams;
  const [counts, rows, teamName] = await Promise.all([
    countSections(ctx.db.kysely, teams),
    listSection(ctx.db.kysely, teams, section, page),
    teamNamer(ctx),
  ]);
  // Past the count's cap the number of pages is not known: pages say where they are, not how many.
  const pages = counts[section] > COUNT_CAP ? undefined : Math.max(1, Math.ceil(counts[section] / PAGE_SIZE));
  const pageOf = (n: number) => (pages === undefined ? `Page ${n}` : `Page ${n} of ${pages}`);
  const hasNext = rows.length > PAGE_SIZE;
  const now = ctx.clock.now().toISOString();
  return {
    pageTitle: `${SECTION_TITLES[section]} – Team inbox`,
    team,
    teamOptions: user.teams.map((id) => ({ value: id, text: teamName(id), selected: id === team })),
    teamLabel: team
      ? teamName(team)
      : user.teams.length > 1
        ? 'All your teams'
        : teamName(user.teams[0] ?? ''),
    showTeam: !team && user.teams.length > 1,
    sections: SECTIONS.map((s) => ({
      href: href({ team, section: s }),
      text: `${SECTION_TITLES[s]} (${countText(counts[s])})`,
      current: s === section,
    })),
    section,
    sectionTitle: SECTION_TITLES[section],
    rows: rows.slice(0, PAGE_SIZE).map((row) => rowView(row, now, teamName)),
    pageLabel: pages === 1 ? '' : pageOf(page).toLowerCase(),
    previous:
      page > 1 ? { href: href({ team, section, page: page - 1 }), labelText: pageOf(page - 1) } : undefined,
    next: hasNext
      ? { href: href({ team, section, page: page + 1 }), labelText: pageOf(page + 1) }
      : undefined,
  };
}
