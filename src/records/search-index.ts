import { createHmac, hkdfSync } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DataKey } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { newestKey } from './field-crypto.ts';
import { PERSONAL_FIELDS, unsealField } from './personal-data.ts';
import { termsOfPayload, type SearchTerm } from './search-terms.ts';
import { insertRows } from '../db/insert-rows.ts';

/**
 * Keyed blind indexes: a referral's search terms (search-terms.ts) stored as HMAC-SHA256 digests in
 * `referral_search_terms`, so the safeguarding team can find a referral by name, date of birth, NHS
 * number, incident number or postcode while the database holds none of them in plain text. The HMAC
 * key is derived (HKDF) from each personal-data key, never the key itself, so a digest reveals
 * nothing about the encryption key and one key's digests cannot be compared with another's. Rows
 * carry the id of the data key they were made under; `relay keys rotate` rebuilds them under the
 * newest (governance/search-reindex.ts), and until then a search tries every configured key.
 */

const HKDF_SALT = 'relay:referral-search-index';
const HKDF_INFO = 'blind-index:v1';

const derived = new WeakMap<Buffer, Buffer>();

function indexKey(key: DataKey): Buffer {
  let found = derived.get(key.key);
  if (!found) {
    found = Buffer.from(hkdfSync('sha256', key.key, HKDF_SALT, HKDF_INFO, 32));
    derived.set(key.key, found);
  }
  return found;
}

/** The digest of one term under one data key; the kind is inside, so kinds never collide. */
export function termDigest(key: DataKey, term: SearchTerm): string {
  return createHmac('sha256', indexKey(key)).update(`${term.kind}\u0000${term.value}`).digest('base64url');
}

export interface SearchTermRow {
  referral_id: string;
  kind: string;
  key_id: string;
  digest: string;
  received_at: string;
}

/** The referral a set of rows indexes: its id and when it was received (the order a search lists). */
export interface IndexedReferral {
  id: string;
  received_at: string;
}

/** The rows that index a referral's payload (its sealed JSON opened), under the newest key. */
export function searchRowsOf(
  keys: readonly DataKey[],
  referral: IndexedReferral,
  payload: object,
): SearchTermRow[] {
  const key = newestKey(keys);
  const rows = new Map<string, SearchTermRow>();
  for (const term of termsOfPayload(payload)) {
    const digest = termDigest(key, term);
    rows.set(digest, {
      referral_id: referral.id,
      kind: term.kind,
      key_id: key.id,
      digest,
      received_at: referral.received_at,
    });
  }
  return [...rows.values()];
}

/** Rows for a referral as stored: its sealed payload opened (a purged one has no terms). */
export function searchRowsOfStored(
  keys: readonly DataKey[],
  referral: IndexedReferral & { payload: string },
): SearchTermRow[] {
  const json = unsealField(keys, PERSONAL_FIELDS.payload, referral.id, referral.payload) ?? '{}';
  return searchRowsOf(keys, referral, JSON.parse(json) as object);
}

export async function insertSearchRows(db: Kysely<Database>, rows: SearchTermRow[]): Promise<void> {
  // Bounded statements: SQLite allows 32,766 parameters, and five go to a row.
  for (let i = 0; i < rows.length; i += 1000) {
    await insertRows(db, 'referral_search_terms', rows.slice(i, i + 1000));
  }
}

export async function deleteSearchRows(db: Kysely<Database>, referralIds: string[]): Promise<number> {
  if (referralIds.length === 0) return 0;
  const result = await db
    .deleteFrom('referral_search_terms')
    .where('referral_id', 'in', referralIds)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A term's digest under every configured key: rows not yet rebuilt after a rotation still match. */
export function digestsUnderEveryKey(keys: readonly DataKey[], term: SearchTerm): string[] {
  return keys.map((key) => termDigest(key, term));
}
