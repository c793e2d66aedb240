import { createHmac, timingSafeEqual } from 'node:crypto';
import { DAY } from '../time.ts';

/** Links outlive every acknowledgement deadline, but not for ever. */
export const ACK_TOKEN_LIFETIME_MS = 30 * DAY;

interface TokenBody {
  /** The one delivery this token acknowledges. */
  d: string;
  /** Expiry, seconds since the epoch. */
  e: number;
}

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(`ack:${body}`).digest('base64url');
}

export function createAckToken(secret: string, deliveryId: string, now: Date): string {
  const body: TokenBody = { d: deliveryId, e: Math.floor((now.getTime() + ACK_TOKEN_LIFETIME_MS) / 1000) };
  const encoded = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${encoded}.${sign(secret, encoded)}`;
}

export type TokenCheck =
  { ok: true; deliveryId: string } | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

export function verifyAckToken(secret: string, token: string, now: Date): TokenCheck {
  const [encoded, signature, extra] = token.split('.');
  if (!encoded || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(sign(secret, encoded));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'tampered' };
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof body.d !== 'string' || typeof body.e !== 'number') return { ok: false, reason: 'malformed' };
  if (body.e * 1000 < now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, deliveryId: body.d };
}
