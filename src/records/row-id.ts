import { randomUUID } from 'node:crypto';

/**
 * A new row's id: a UUID of version 7 (RFC 9562), the time in milliseconds first and 74 random bits
 * after, in the usual 8-4-4-4-12 form. A version 4 UUID is random throughout, so every row written
 * landed on a random page of each index keyed by an id (a referral's, a delivery's, a route's, and
 * the timeline, audit and search rows that name them), and a commit of a few dozen referrals wrote
 * back hundreds of pages. Ids made together now sort together, and a commit adds to the same few
 * pages at each index's end. The random part is still unguessable: an id is never a secret, but
 * it is no counter either. `at` is when the row is made, from the injected clock.
 */
export function newRowId(at: Date): string {
  // Node's randomUUID draws its randomness in batches already. Its last 19 hex digits, past the
  // version digit, are 74 random bits with the RFC 9562 variant set: version 7's random part.
  const random = randomUUID().slice(15);
  const time = (Math.max(0, at.getTime()) || 0).toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random}`;
}
