import type { RelayContext } from '../context.ts';
import { appendAudit } from '../records/audit.ts';

/** Who is reading: a signed-in person (only what the catcher needs of them). */
export interface Reader {
  id: string;
  email: string;
  roles: readonly string[];
  teams: readonly string[];
}

/** How many of the newest caught emails are looked through for a reader's own. */
const SCAN_LIMIT = 2000;
const LIST_LIMIT = 200;

export interface CaughtSummary {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  messageId: string | null;
  subject: string;
}

export interface CaughtMessage extends CaughtSummary {
  text: string;
  html: string | null;
}

/**
 * The addresses whose mail a person may read in the catcher: their own; every address their teams
 * have had in any directory version (an email sent before an address changed is still the team's);
 * and, for the safeguarding role, the safeguarding mailbox, the on-call rota's addresses and every
 * safeguarding account's. Anything else (another team's referral, a colleague's alert) is not theirs.
 */
export async function readableAddresses(ctx: RelayContext, user: Reader): Promise<Set<string>> {
  const db = ctx.db.kysely;
  const addresses = [user.email];
  if (user.teams.length > 0) {
    const channels = await db
      .selectFrom('team_channels')
      .select('address')
      .distinct()
      .where('kind', '=', 'email')
      .where('team_id', 'in', [...user.teams])
      .execute();
    addresses.push(...channels.map((c) => c.address));
  }
  if (user.roles.includes('safeguarding')) {
    const fallback = ctx.config.assurance.safeguardingEmail;
    if (fallback) addresses.push(fallback);
    const rota = await db.selectFrom('oncall_shifts').select('email').distinct().execute();
    addresses.push(...rota.map((r) => r.email));
    const colleagues = await db.selectFrom('users').select(['email', 'roles']).execute();
    addresses.push(
      ...colleagues
        .filter((c) => (JSON.parse(c.roles) as string[]).includes('safeguarding'))
        .map((c) => c.email),
    );
  }
  return new Set(addresses.map((a) => a.trim().toLowerCase()));
}

function addressedTo(recipients: string[], readable: Set<string>): boolean {
  return recipients.some((r) => readable.has(r.trim().toLowerCase()));
}

/** The newest caught emails addressed to this person, without their bodies. */
export async function listReadable(ctx: RelayContext, user: Reader): Promise<CaughtSummary[]> {
  const readable = await readableAddresses(ctx, user);
  const rows = await ctx.db.kysely
    .selectFrom('caught_messages')
    .select(['id', 'received_at', 'envelope_from', 'envelope_to', 'message_id', 'subject'])
    .orderBy('received_at', 'desc')
    .limit(SCAN_LIMIT)
    .execute();
  return rows
    .map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      from: r.envelope_from,
      to: JSON.parse(r.envelope_to) as string[],
      messageId: r.message_id,
      subject: r.subject,
    }))
    .filter((m) => addressedTo(m.to, readable))
    .slice(0, LIST_LIMIT);
}

/**
 * One caught email in full, if it is addressed to this person (otherwise undefined, as if it did not
 * exist, so ids cannot be probed). Each reading is audited by ids only: the email itself holds the
 * personal data.
 */
export async function readMessage(
  ctx: RelayContext,
  user: Reader,
  id: string,
  via: 'api' | 'page',
): Promise<CaughtMessage | undefined> {
  const row = await ctx.db.kysely
    .selectFrom('caught_messages')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const to = JSON.parse(row.envelope_to) as string[];
  if (!addressedTo(to, await readableAddresses(ctx, user))) return undefined;
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, ctx.clock.now(), {
      actor: `user:${user.id}`,
      action: 'mailbox.message-viewed',
      entityType: 'caught_message',
      entityId: row.id,
      detail: { via },
    }),
  );
  return {
    id: row.id,
    receivedAt: row.received_at,
    from: row.envelope_from,
    to,
    messageId: row.message_id,
    subject: row.subject,
    text: row.text,
    html: row.html,
  };
}
