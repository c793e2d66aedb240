import { hostname } from 'node:os';
import type { RelayContext } from '../context.ts';
import { clockSkewMs } from '../db/server-time.ts';
import { openEscalation, RELAY_RESOLVER, resolveEscalationIn } from '../records/escalation.service.ts';

/** The machine, not the process: a restarted node on the same wrong clock is the same problem. */
const HOST = hostname();

export interface SkewCheck {
  skewMs: number;
  maxSkewMs: number;
  skewed: boolean;
}

/**
 * On PostgreSQL, compares this node's clock with the database server's. Deadlines are reckoned on
 * the node's clock, so one set back three hours moves every deadline three hours later without a
 * word: beyond MAX_CLOCK_SKEW this opens a `clock-skew` escalation for the machine (readiness says
 * so too), and Relay resolves it once the clock is right again. Returns undefined when not checked
 * (SQLite, or MAX_CLOCK_SKEW=off).
 */
export async function checkClockSkew(ctx: RelayContext): Promise<SkewCheck | undefined> {
  const maxSkewMs = ctx.config.liveness.maxClockSkewMs;
  if (maxSkewMs === null) return undefined;
  const skewMs = await clockSkewMs(ctx.db.kysely, ctx.clock);
  if (skewMs === null) return undefined;
  const skewed = Math.abs(skewMs) > maxSkewMs;
  const now = ctx.clock.now();
  const open = await openSkewEscalations(ctx);
  if (skewed && open.length === 0) {
    // One escalation per episode on this machine: nodes on the same host agree on its number, so
    // they open one between them; a later episode opens a new one.
    const episodes = await ctx.db.kysely
      .selectFrom('escalations')
      .select('detail')
      .where('reason', '=', 'clock-skew')
      .execute();
    const occasion = `${HOST}#${episodes.filter((e) => nodeOf(e.detail) === HOST).length + 1}`;
    const detail = { node: HOST, skewMs, maxSkewMs };
    await ctx.db.kysely
      .transaction()
      .execute((trx) =>
        openEscalation(trx, { referralId: null, teamId: null, reason: 'clock-skew', detail, occasion }, now),
      );
  } else if (!skewed) {
    const note = `The clock of ${HOST} agrees with the database server's again (within ${maxSkewMs / 1000} s).`;
    for (const id of open) {
      await ctx.db.kysely
        .transaction()
        .execute((trx) => resolveEscalationIn(trx, id, note, RELAY_RESOLVER, now));
    }
  }
  return { skewMs, maxSkewMs, skewed };
}

async function openSkewEscalations(ctx: RelayContext): Promise<string[]> {
  const rows = await ctx.db.kysely
    .selectFrom('escalations')
    .select(['id', 'detail'])
    .where('reason', '=', 'clock-skew')
    .where('state', '!=', 'resolved')
    .execute();
  return rows.filter((r) => nodeOf(r.detail) === HOST).map((r) => r.id);
}

function nodeOf(detail: string): string | undefined {
  try {
    const parsed = JSON.parse(detail) as { node?: unknown };
    return typeof parsed.node === 'string' ? parsed.node : undefined;
  } catch {
    return undefined;
  }
}
