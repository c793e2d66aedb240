import type { AliasedSelectQueryBuilder, ExpressionBuilder, Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { countAtMost } from '../../db/count-at-most.ts';

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
 * or decrypted.
 */
export async function searchReferrals(db: Kysely<Database>, f: SearchFilter): Promise<SearchResult[]> {
  // What was typed gives the candidates, already filtered: they are only put in order here.
  const newest = newestMatching(db, f);
  const candidates = newest ? db.selectFrom('referrals').where('id', 'in', newest) : filtered(db, f);
  const rows = await candidates
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
  const matching = matchingIds(db, f);
  const among = matching && ((query: Referrals) => query.where('id', 'in', matching));
  return countAtMost(db, filtered(db, f, among).select('id'), atMost);
}

type Referrals = SelectQueryBuilder<Database, 'referrals', object>;

/**
 * The referrals that pass the filters, unordered, among those that `among` keeps (what was typed;
 * all of them when nothing was).
 */
function filtered(db: Kysely<Database>, f: SearchFilter, among?: (query: Referrals) => Referrals) {
  let query: Referrals = db.selectFrom('referrals');
  if (f.reference) query = query.where('reference', '=', f.reference);
  if (among) query = among(query);
  return hasFilters(f) ? query.where((eb) => passes(eb, f)) : query;
}

function hasFilters(f: SearchFilter): boolean {
  return Boolean(f.from || f.to || f.status || f.authority);
}

/** The filters besides what was typed, as a test of the referral in scope as `referrals`. */
function passes<DB extends Database, TB extends keyof DB & 'referrals'>(
  eb: ExpressionBuilder<DB, TB>,
  f: SearchFilter,
) {
  // Called on `referrals` alone and on the search index joined to it; Kysely's types cannot say "any
  // scope that holds referrals", and every reference below names it.
  const e = eb as unknown as ExpressionBuilder<Database, 'referrals'>;
  const tests = [];
  if (f.from) tests.push(e('referrals.received_at', '>=', f.from));
  if (f.to) tests.push(e('referrals.received_at', '<', f.to));
  if (f.status) tests.push(e('referrals.status', '=', f.status));
  const authority = f.authority;
  if (authority) {
    tests.push(
      e('referrals.id', 'in', (sub) =>
        sub.selectFrom('routes').select('routes.referral_id').where('routes.authority_id', '=', authority),
      ),
    );
  }
  return e.and(tests);
}

/**
 * What was typed, as the ids of the newest `limit` referrals (passing the filters) of each way it
 * matched: each term group, and references containing it. The newest `limit` of all are among them.
 * Each way is read newest first and stops at the limit, so a search reads about a page's worth of
 * rows however many referrals hold what was typed (a busy postcode district: 27,000 of a million):
 * a group from the search index by its first term's digest and receipt time, testing the group's
 * other terms and the filters on each row read; a reference part from referrals by receipt time.
 * Undefined when nothing was typed.
 */
function newestMatching(db: Kysely<Database>, f: SearchFilter) {
  const { referencePart, termGroups = [] } = f;
  /** Each way's ids under a name of its own, so that the ways can be put together in one union. */
  const named = (list: { as(alias: string): AliasedSelectQueryBuilder<{ id: string }, string> }, i: number) =>
    db.selectFrom(list.as(`newest${i}`)).select('id');
  const ways = termGroups.flatMap((group, i) => {
    if (group.length === 0) return [];
    let list = holdersOf(db, group)
      .innerJoin('referrals', 'referrals.id', 'held.referral_id')
      .select(['referrals.id']);
    // The received dates as a range of the index, not only a test of each row.
    if (f.from) list = list.where('held.received_at', '>=', f.from);
    if (f.to) list = list.where('held.received_at', '<', f.to);
    if (hasFilters(f)) list = list.where((eb) => passes(eb, f));
    return [
      named(
        list.orderBy('held.received_at', 'desc').orderBy('referrals.reference', 'desc').limit(f.limit),
        i,
      ),
    ];
  });
  if (referencePart) {
    let byReference = referencesContaining(db, referencePart).select(['referrals.id']);
    if (hasFilters(f)) byReference = byReference.where((eb) => passes(eb, f));
    const newest = byReference.orderBy('received_at', 'desc').orderBy('reference', 'desc').limit(f.limit);
    ways.push(named(newest, termGroups.length));
  }
  const [head, ...tail] = ways;
  if (!head) return undefined;
  return tail.reduce((all, list) => all.unionAll(list), head);
}

/**
 * The ids found by what was typed, as one list, unordered and complete (for the count): each term
 * group from the blind index (a referral holding every term of the group), and references containing
 * the part. One list, not an OR of conditions on referrals: an OR keeps PostgreSQL from joining, so it
 * walked every referral newest first, testing each against the matches.
 */
function matchingIds(db: Kysely<Database>, f: SearchFilter) {
  const { referencePart, termGroups = [] } = f;
  const lists = termGroups.flatMap((group) =>
    group.length === 0 ? [] : [holdersOf(db, group).select('held.referral_id')],
  );
  // No index serves a part, so this reads every reference: the form sends only what could be one.
  const byReference = referencePart
    ? referencesContaining(db, referencePart).select('referrals.id as referral_id')
    : undefined;
  const [head, ...tail] = lists;
  if (!head) return byReference;
  const all = tail.reduce((union, list) => union.unionAll(list), head);
  return byReference ? all.unionAll(byReference) : all;
}

/**
 * The search index's rows (as `held`) of a group's first term, for referrals that hold every other
 * term of the group too, each checked by the index's primary key (referral_id, digest).
 */
function holdersOf(db: Kysely<Database>, group: string[][]) {
  const [first = [], ...rest] = group;
  let rows = db.selectFrom('referral_search_terms as held').where('held.digest', 'in', first);
  for (const digests of rest) {
    rows = rows.where((eb) =>
      eb.exists(
        eb
          .selectFrom('referral_search_terms as also')
          .select('also.referral_id')
          .whereRef('also.referral_id', '=', 'held.referral_id')
          .where('also.digest', 'in', digests),
      ),
    );
  }
  return rows;
}

/** Referrals whose reference contains the part (letters, digits and hyphens: no LIKE wildcards to escape). */
function referencesContaining(db: Kysely<Database>, part: string) {
  return db.selectFrom('referrals').where('reference', 'like', `%${part}%`);
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
