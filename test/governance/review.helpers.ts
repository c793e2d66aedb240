import { inflateSync } from 'node:zlib';
import { openEscalation } from '../../src/records/escalation.service.ts';
import type { DeliveryState } from '../../src/db/codes.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { createUser, type Role } from '../../src/access/user.service.ts';
import { MINUTE } from '../../src/time.ts';
import type { TestRelay } from '../helpers/relay.ts';
import { raise } from '../helpers/referrals.ts';

const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Shapes referrals' delivery and route rows by SQL, as if the dispatcher and teams had acted. */
export function shaper(relay: TestRelay) {
  const db = () => relay.ctx.db.kysely;
  const receivedAt = async (id: string) =>
    (await db().selectFrom('referrals').select('received_at').where('id', '=', id).executeTakeFirstOrThrow())
      .received_at;
  return {
    /** Raises a referral received at `at` (the clock is left there). */
    async raiseAt(at: string) {
      relay.clock.set(at);
      const incident = exampleReferral().incident;
      return raise(relay, { incident: { ...incident, occurredAt: later(at, -30 * MINUTE) } });
    },
    /** Every copy sent a minute after receipt and acknowledged ten minutes after: nothing to review. */
    async clean(id: string) {
      const received = await receivedAt(id);
      await db()
        .updateTable('deliveries')
        .set({ state: 'sent', sent_at: later(received, MINUTE) })
        .where('referral_id', '=', id)
        .execute();
      await db()
        .updateTable('routes')
        .set({ acknowledged_at: later(received, 10 * MINUTE) })
        .where('referral_id', '=', id)
        .execute();
    },
    /** Changes the referral's first delivery (or with nothing to set, just reads its send-by). */
    async delivery(id: string, set: { state?: DeliveryState; sent_at?: string | null; updated_at?: string }) {
      const first = await db()
        .selectFrom('deliveries')
        .select(['id', 'send_by'])
        .where('referral_id', '=', id)
        .orderBy('id')
        .executeTakeFirstOrThrow();
      if (Object.keys(set).length > 0)
        await db().updateTable('deliveries').set(set).where('id', '=', first.id).execute();
      return first;
    },
    async route(id: string, set: (ackBy: string) => { acknowledged_at: string | null }) {
      const route = await db()
        .selectFrom('routes')
        .select(['id', 'ack_by'])
        .where('referral_id', '=', id)
        .executeTakeFirstOrThrow();
      await db().updateTable('routes').set(set(route.ack_by)).where('id', '=', route.id).execute();
    },
    async escalate(referralId: string | null, reason: 'not-acknowledged' | 'missing-referral', detail = {}) {
      await db()
        .transaction()
        .execute((trx) =>
          openEscalation(
            trx,
            { referralId, teamId: null, reason, detail, occasion: JSON.stringify(detail) },
            relay.clock.now(),
          ),
        );
    },
  };
}

let people = 0;

/** A person with these roles, as a reviewer or an actor. */
export async function person(relay: TestRelay, roles: Role[], name: string) {
  people += 1;
  const { user } = await createUser(
    relay.ctx.db.kysely,
    relay.clock,
    {
      email: `reviewer-${process.pid}-${people}@example.org`,
      name,
      roles,
      password: 'a long enough password',
    },
    'test',
    () => true,
  );
  return { user, actor: { actor: `user:${user.id}`, name: user.name } };
}

/**
 * The text a PDF shows: every content stream inflated (pdfkit compresses them), then the hex
 * strings of each TJ text operator decoded, one line per operator. Enough to find a title in it.
 */
export function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  // pdfkit ends a stream's data with "\nendstream"; a compressed stream's own last byte may be "\r",
  // so it is kept (stripping it made the inflate fail now and then, and the text vanish).
  for (const match of raw.matchAll(/stream\r?\n([\s\S]*?)\nendstream/g)) {
    let content = match[1] ?? '';
    try {
      content = inflateSync(Buffer.from(content, 'latin1')).toString('latin1');
    } catch {
      // Not compressed (or not a content stream): read it as it is.
    }
    for (const tj of content.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
      const hex = [...(tj[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]).join('');
      lines.push(Buffer.from(hex, 'hex').toString('latin1'));
    }
  }
  return lines.join('\n');
}
