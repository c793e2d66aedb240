import { createHmac } from 'node:crypto';

/**
 * Seals the sequence number from which entries are keyed (audit_keying.keyed_from). Without the seal,
 * someone able to write to the database could move the start past the end and pass off a rebuilt,
 * unkeyed chain as one written before keyed hashing existed.
 */
export function keyedFromSeal(key: Buffer, keyedFrom: number): string {
  return createHmac('sha256', key).update(`audit-keyed-from|${keyedFrom}`).digest('hex');
}
