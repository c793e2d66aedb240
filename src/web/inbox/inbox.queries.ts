import type { Kysely } from 'kysely';
import { countAtMost } from '../../db/count-at-most.ts';
import type { Database } from '../../db/schema.ts';

/** The inbox's three piles, by where the team's copy (its route) stands. */
export const SECTIONS = ['new', 'due', 'done'] as const;
export type Section = (typeof SECTIONS)[number];

export const PAGE_SIZE = 20;

export interface InboxRow {
  referralId: string;
  reference: string;
  urgency: string;
  status: string;
  teamId: string;
  reason: string;
  /** When this team got it: receipt, or the moment another team redirected it here. */
  receivedAt: string;
  ackBy: string;
  acknowledgedAt: string | null;
  outcome: string | null;
  outcomeAt: string | null;
}

function teamRoutes(db: Kysely<Database>, teams: string[]) {
  return db
    .selectFrom('routes as r')
    .innerJoin('referrals as f', 'f.id', 'r.referral_id')
    .where('r.team_id', 'in', teams);
}

type RouteQuery = ReturnType<typeof teamRoutes>;

function inSection(query: RouteQuery, section: Section): RouteQuery {
  // Every outcome is written with its time. Naming the time lets routes_team_done start at the
  // latest outcome: read backwards, PostgreSQL's index meets the routes without one first (its NULLs
  // sort last), and at a million routes that was a fifth of them before the first finished one.
  if (section === 'done')
    return query.where('r.outcome', 'is not', null).where('r.outcome_at', 'is not', null);
  const open = query.where('r.outcome', 'is', null);
  return section === 'new'
    ? open.where('r.acknowledged_at', 'is', null)
    : open.where('r.acknowledged_at', 'is not', null);
}

/**
 * Piles are counted no further than this: a team's finished work grows for ever (ten years of it
 * is a million routes), and a count of it would read every one on each page view. A larger pile
 * shows as more than this many.
 */
export const COUNT_CAP = 1000;

/** How many of the team's routes are in each pile, for the section links: at most `cap` + 1. */
export async function countSections(
  db: Kysely<Database>,
  teams: string[],
  cap = COUNT_CAP,
): Promise<Record<Section, number>> {
  const [fresh = 0, due = 0, done = 0] = await Promise.all(
    SECTIONS.map((section) => countAtMost(db, inSection(teamRoutes(db, teams), section).select('r.id'), cap)),
  );
  return { new: fresh, due, done };
}

export async function listSection(
  db: Kysely<Database>,
  teams: string[],
  section: Section,
  page: number,
): Promise<InboxRow[]> {
  let query = inSection(teamRoutes(db, teams), section).select([
    'f.id as referralId',
    'f.reference',
    'f.urgency',
    'f.status',
    'r.team_id as teamId',
    'r.reason',
    'r.created_at as receivedAt',
    'r.ack_by as ackBy',
    'r.acknowledged_at as acknowledgedAt',
    'r.outcome',
    'r.outcome_at as outcomeAt',
  ]);
  // Finished work is read as a history: the latest decision first. Open work most urgent first;
  // within an urgency the newest first, so a fresh immediate referral tops the pile. Each is its
  // index's order, read backwards (migration 20261209100000_inbox_indexes).
  query =
    section === 'done'
      ? query.orderBy('r.outcome_at', 'desc')
      : query.orderBy('r.urgency_rank', 'desc').orderBy('r.created_at', 'desc');
  // One row past the page says whether there is a next one, however large the pile.
  return query
    .orderBy('r.id', 'desc')
    .limit(PAGE_SIZE + 1)
    .offset((page - 1) * PAGE_SIZE)
    .execute();
}
