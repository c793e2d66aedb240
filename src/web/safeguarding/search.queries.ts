import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

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

/** Newest first, with the authorities each referral went to; no personal data is read or decrypted. */
export async function searchReferrals(db: Kysely<Database>, f: SearchFilter): Promise<SearchResult[]> {
  let query = db
    .selectFrom('referrals')
    .select(['id', 'reference', 'status', 'urgency', 'subject_type', 'received_at']);
  if (f.reference) query = query.where('reference', '=', f.reference);
  const { referencePart, termGroups = [] } = f;
  if (referencePart || termGroups.length > 0) {
    query = query.where((eb) =>
      eb.or([
        // References hold only letters, digits and hyphens, so the part has no LIKE wildcards to escape.
        ...(referencePart ? [eb('reference', 'like', `%${referencePart}%`)] : []),
        ...termGroups.map((group) =>
          eb.and(
            group.map((digests) =>
              eb(
                'id',
                'in',
                eb.selectFrom('referral_search_terms').select('referral_id').where('digest', 'in', digests),
              ),
            ),
          ),
        ),
      ]),
    );
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
  const rows = await query
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
