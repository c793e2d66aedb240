import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { countAtMost } from '../../db/count-at-most.ts';
import { isPostgres } from '../../db/database.ts';

export interface SearchFilter {
  /** A whole SR-YYYY-NNNNNN reference. */
  reference?: string;
  /** Part of a reference, upper case, letters, digits and hyphens only. */
  referencePart?: string;
  /**
   * Blind-index matches (src/records/search-index.ts), found alongside `referencePart`: a referral
   * holding every term of any one group. Each term is its digests under every configured key.
   */
  termGroups?: string[][][];
  /** ISO instants: received at or after `from`, before `to`. */
  from?: string;
  to?: string;
  authority?: string;
  status?: string;
  limit: number;
}

export interface SearchResult {
  id: string;
  reference: string;
  status: string;
  urgency: string;
  subjectType: string;
  receivedAt: string;
  authorities: string[];
}

/**
 * Newest first, at most `limit`, with the authorities each referral went to; no personal data is read
 * or decrypted. `walkFrom` replaces the number of index matches past which referrals are walked
 * newest first (walkFrom below), so that a test can take either way with a few referrals.
 */
export async function searchReferrals(
  db: Kysely<Database>,
  f: SearchFilter,
  options: { walkFrom?: number } = {},
): Promise<SearchResult[]> {
  const rows = await filtered(db, f, await isCommon(db, f, options.walkFrom ?? (await walkFrom(db, f.limit))))
    .select(['id', 'reference', 'status', 'urgency', 'subject_type', 'received_at'])
    .orderBy('received_at', 'desc')
    .orderBy('reference', 'desc')
    .limit(f.limit)
    .execute();
  const authorities = await authoritiesOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    id: r.id,
    reference: r.reference,
    status: r.status,
    urgency: r.urgency,
    subjectType: r.subject_type,
    receivedAt: r.received_at,
    authorities: authorities.get(r.id) ?? [],
  }));
}

/**
 * How many referrals the filter matches, counting no further than `atMost` + 1: enough to say "437
 * referrals" or "more than 1,000", without reading every referral a common surname or an empty
 * filter matches.
 */
export function countReferrals(db: Kysely<Database>, f: SearchFilter, atMost: number): Promise<number> {
  return countAtMost(db, filtered(db, f).select('id'), atMost);
}

/**
 * On PostgreSQL, past this many index matches, finding the newest 100 by reading referrals newest
 * first and keeping those that match (about 100 × referrals ÷ matches of them) is cheaper than
 * reading every match (measured at 300,000 referrals: Smith's 3,820 matches took 29 ms walked, 149 ms
 * looked up one by one; a value held by two took 0.2 ms looked up, 875 ms walked).
 */
const PG_WALK_FROM = 2000;

/**
 * How many index matches make walking cheaper than looking each one up. On SQLite a referral walked
 * costs about what a match looked up does (6.6 and 5 µs at 1,000,000 referrals), so the two meet
 * where matches = limit × referrals ÷ matches: at 1,000,000 referrals, about 10,000 (measured: 9,215
 * matches 47 ms looked up, 70 ms walked; 12,834 matches 74 ms looked up, 55 ms walked). Referrals are
 * never deleted, so the highest rowid is their number, read from the end of the table's b-tree.
 */
async function walkFrom(db: Kysely<Database>, limit: number): Promise<number> {
  if (isPostgres(db)) return PG_WALK_FROM;
  const { rows } = await sql<{ n: number | null }>`select max(rowid) as n from referrals`.execute(db);
  return Math.round(Math.sqrt(limit * (rows[0]?.n ?? 0)));
}

/** Whether what was typed matches more than `threshold` referrals: walking them newest first is cheaper. */
async function isCommon(db: Kysely<Database>, f: SearchFilter, threshold: number): Promise<boolean> {
  const hits = matchingIds(db, f);
  if (!hits) return false;
  const found = await countAtMost(db, db.selectFrom(hits.as('every')).select('every.referral_id'), threshold);
  return found > threshold;
}

/**
 * The referrals the filter matches, unordered. What was typed is one list of ids (matchingIds), or,
 * for a common value, a test of each referral that the engine can make while walking referrals newest
 * first, stopping at the limit: on PostgreSQL each kind's list as an alternative (`id in A or id in
 * B`), held in memory; on SQLite, which answers that by looking up every id of every list and sorting
 * them (132 ms for a busy district at 1,000,000 referrals), a probe of the search index's primary key
 * for each referral walked (32 ms).
 */
function filtered(db: Kysely<Database>, f: SearchFilter, common = false) {
  let query = db.selectFrom('referrals');
  if (f.reference) query = query.where('reference', '=', f.reference);
  if (common && isPostgres(db)) {
    const lists = idLists(db, f);
    query = query.where((eb) => eb.or(lists.map((list) => eb('id', 'in', list))));
  } else if (common) {
    query = query.where((eb) => heldBy(eb, f));
  } else {
    const hits = matchingIds(db, f);
    if (hits) query = query.where('id', 'in', hits);
  }
  if (f.from) query = query.where('received_at', '>=', f.from);
  if (f.to) query = query.where('received_at', '<', f.to);
  if (f.status) query = query.where('status', '=', f.status);
  const authority = f.authority;
  if (authority) {
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('routes').select('referral_id').where('authority_id', '=', authority),
    );
  }
  return query;
}

/**
 * The ids found by what was typed, as one list: each term group from the blind index (a referral
 * holding every term of the group), and references containing the part. One list, not an OR of
 * conditions on referrals: an OR keeps PostgreSQL from joining, so it walked every referral newest
 * first, testing each against the matches, and a value held by five referrals read all million.
 * From the list, it reads only the referrals found.
 */
function matchingIds(db: Kysely<Database>, f: SearchFilter) {
  const [head, ...tail] = idLists(db, f);
  if (!head) return undefined;
  return tail.reduce((all, list) => all.unionAll(list), head);
}

/** One list of ids per way the text matched: each term group, and references containing it. */
function idLists(db: Kysely<Database>, f: SearchFilter) {
  const { referencePart, termGroups = [] } = f;
  const lists = termGroups.flatMap((group) => {
    const [first, ...rest] = group;
    if (!first) return [];
    let list = db.selectFrom('referral_search_terms').select('referral_id').where('digest', 'in', first);
    for (const digests of rest) {
      list = list.where('referral_id', 'in', (eb) =>
        eb
          .selectFrom('referral_search_terms as also')
          .select('also.referral_id')
          .where('also.digest', 'in', digests),
      );
    }
    return [list];
  });
  // References hold only letters, digits and hyphens, so the part has no LIKE wildcards to escape.
  // No index serves a part, so this reads every reference: the form sends only what could be one.
  const byReference = referencePart
    ? [
        db
          .selectFrom('referrals')
          .select('id as referral_id')
          .where('reference', 'like', `%${referencePart}%`),
      ]
    : [];
  return [...byReference, ...lists];
}

/**
 * What was typed, as a test of one referral: its reference contains the part, or it holds every term
 * of a group, each term one lookup of the search index's primary key (referral_id, digest).
 */
function heldBy(eb: ExpressionBuilder<Database, 'referrals'>, f: SearchFilter) {
  const { referencePart, termGroups = [] } = f;
  const holds = (digests: string[]) =>
    eb.exists(
      eb
        .selectFrom('referral_search_terms as held')
        .select('held.referral_id')
        .whereRef('held.referral_id', '=', 'referrals.id')
        .where('held.digest', 'in', digests),
    );
  const groups = termGroups.filter((group) => group.length > 0).map((group) => eb.and(group.map(holds)));
  return eb.or(referencePart ? [eb('reference', 'like', `%${referencePart}%`), ...groups] : groups);
}

/** Which of `digests` each of these referrals holds in the search index: what it was found by. */
export async function digestsHeld(
  db: Kysely<Database>,
  referralIds: string[],
  digests: string[],
): Promise<Map<string, Set<string>>> {
  const held = new Map<string, Set<string>>();
  if (referralIds.length === 0 || digests.length === 0) return held;
  const rows = await db
    .selectFrom('referral_search_terms')
    .select(['referral_id', 'digest'])
    .where('referral_id', 'in', referralIds)
    .where('digest', 'in', digests)
    .execute();
  for (const r of rows) held.set(r.referral_id, (held.get(r.referral_id) ?? new Set()).add(r.digest));
  return held;
}

async function authoritiesOf(db: Kysely<Database>, ids: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (ids.length === 0) return found;
  const routes = await db
    .selectFrom('routes')
    .select(['referral_id', 'authority_id'])
    .where('referral_id', 'in', ids)
    .orderBy('position')
    .execute();
  for (const r of routes) {
    const list = found.get(r.referral_id) ?? [];
    if (!list.includes(r.authority_id)) found.set(r.referral_id, [...list, r.authority_id]);
  }
  return found;
}

/** Every send attempt of a referral's deliveries, oldest first: the SMTP reply or HTTP status of each. */
export async function attemptsOf(db: Kysely<Database>, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('delivery_attempts')
    .select(['delivery_id', 'started_at', 'duration_ms', 'outcome', 'detail'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
}
