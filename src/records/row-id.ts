import { randomFillSync } from 'node:crypto';

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
  const bytes = randomBytes16();
  // 48 bits of milliseconds, big-endian (a division, not a shift: JavaScript shifts are 32-bit).
  let ms = Math.max(0, at.getTime());
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f); // version 7
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f); // the RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Random bytes drawn 4 KiB at a time: one call into the system's generator per 256 ids.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function randomBytes16(): Buffer {
  if (offset + 16 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + 16));
  offset += 16;
  return bytes;
}
