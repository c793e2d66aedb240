import { openEscalation, resolveCleared } from '../../records/escalation.service.ts';
import { rotaView } from '../oncall/oncall.service.ts';
import type { SweepJob } from '../watchdog.ts';

/**
 * Every sweep: a stretch of the next 7 days with nobody on the rota is a `rota-gap` escalation, so
 * the gap is filled before an escalation needs someone. Once the rota is whole again Relay resolves
 * it. A rota never used (the team relies on SAFEGUARDING_EMAIL) has no gaps to report.
 */
export function rotaGapJob(): SweepJob {
  return async (ctx, now) => {
    const view = await rotaView(ctx, now);
    const first = view.gaps[0];
    if (first) {
      const detail = {
        from: first.from.toISOString(),
        to: first.to.toISOString(),
        gaps: view.gaps.length,
        fallback: view.fallback !== undefined,
      };
      return ctx.db.kysely
        .transaction()
        .execute((trx) =>
          openEscalation(trx, { referralId: null, teamId: null, reason: 'rota-gap', detail }, now),
        );
    }
    return resolveCleared(
      ctx.db.kysely,
      'rota-gap',
      'The rota has someone on call for all of the next 7 days.',
      now,
    );
  };
}
