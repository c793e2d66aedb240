import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { barChart } from './chart.ts';
import {
  FINISHED_DELIVERY_STATES,
  FINISHED_REFERRAL_STATUSES,
  OPEN_DELIVERY_STATES,
  OPEN_REFERRAL_STATUSES,
  SUPERSEDED,
} from '../../assurance/open-work.ts';
import {
  ACK_PERIOD_DAYS,
  FINISHED_PERIOD_DAYS,
  loadDashboardFacts,
  VOLUME_DAYS,
  type DashboardFacts,
} from './dashboard.queries.ts';
import { dailyVolume, formatDay } from './dashboard.stats.ts';
import { deliveryState, formatDuration, NEEDS_ATTENTION, referralStatus } from './labels.ts';
import { currentNames, namesIn, type Names } from './page.helpers.ts';

/** GET /safeguarding: is anything stuck? Counts, the oldest wait, time to acknowledge and volume. */
export function registerDashboardPage(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/safeguarding', async (_request, reply) => {
    const now = ctx.clock.now();
    const facts = await loadDashboardFacts(ctx.db.kysely, now);
    const names = await currentNames(ctx);
    return reply.page('safeguarding/dashboard.njk', {
      pageTitle: 'Dashboard',
      ...countsView(facts),
      oldest: await oldestView(ctx, facts, now),
      ackPeriodDays: ACK_PERIOD_DAYS,
      ackStats: ackView(facts, names),
      volumeDays: VOLUME_DAYS,
      chart: barChart(
        dailyVolume(facts.receivedByHour, now, VOLUME_DAYS),
        `Referrals received per day, last ${VOLUME_DAYS} days`,
      ),
    });
  });
}

/**
 * Open work counted whatever its age; finished work only for the period, since ten years of closed
 * referrals say nothing about what is stuck today. A finished count links to the same period in search.
 */
function countsView(facts: DashboardFacts) {
  const row = (code: string, text: string, n: number, href?: string) => ({
    code,
    text,
    count: n,
    href,
    attention: n > 0 && NEEDS_ATTENTION.has(code),
  });
  const search = (status: string, from?: string) =>
    `/safeguarding/search?status=${status}${from ? `&from=${from}` : ''}`;
  return {
    openReferralCounts: OPEN_REFERRAL_STATUSES.map((s) =>
      row(s, referralStatus(s), facts.openReferrals.get(s) ?? 0, search(s)),
    ),
    openDeliveryCounts: OPEN_DELIVERY_STATES.map((s) =>
      row(s, s === 'sent' ? SENT_UNACKNOWLEDGED : deliveryState(s), facts.openDeliveries.get(s) ?? 0),
    ),
    finishedDays: FINISHED_PERIOD_DAYS,
    finishedFrom: formatDay(facts.finishedFrom),
    finishedReferralCounts: FINISHED_REFERRAL_STATUSES.map((s) =>
      row(s, referralStatus(s), facts.finishedReferrals.get(s) ?? 0, search(s, facts.finishedFrom)),
    ),
    finishedDeliveryCounts: [...FINISHED_DELIVERY_STATES, SUPERSEDED].map((s) =>
      row(s, s === SUPERSEDED ? SUPERSEDED_TEXT : deliveryState(s), facts.finishedDeliveries.get(s) ?? 0),
    ),
    escalations: { ...facts.escalations, total: facts.escalations.open + facts.escalations.claimed },
    triage: facts.triage,
    triageFinishedCounts: Object.entries(TRIAGE_OUTCOMES).map(([code, text]) =>
      row(code, text, facts.triageFinished.get(code) ?? 0),
    ),
  };
}

const TRIAGE_OUTCOMES = {
  routed: 'Routed to a team by hand',
  'handed-off': 'Handed off to another area’s service',
  closed: 'Closed with a reason',
};

/** Sent is not received: a sent copy waits for its team, so it is open work under this name. */
const SENT_UNACKNOWLEDGED = 'Sent, not yet acknowledged';
const SUPERSEDED_TEXT = 'Not acknowledged by this copy: referral acknowledged or closed another way';

/** Named with the directory version the referral was routed with, as the team saw it. */
async function oldestView(ctx: RelayContext, facts: DashboardFacts, now: Date) {
  const oldest = facts.oldestUnacknowledged;
  if (!oldest) return undefined;
  const directory = oldest.directoryVersion
    ? await ctx.directories.version(oldest.directoryVersion)
    : undefined;
  const names: Names = namesIn(directory);
  return {
    referralId: oldest.referralId,
    reference: oldest.reference,
    team: names.teamName(oldest.teamId),
    receivedAt: oldest.receivedAt,
    age: formatDuration(now.getTime() - Date.parse(oldest.receivedAt)),
    ackBy: oldest.ackBy,
    overdue: oldest.ackBy <= now.toISOString(),
  };
}

function ackView(facts: DashboardFacts, names: Names) {
  const show = (ms: number | undefined) => (ms === undefined ? 'None yet' : formatDuration(ms));
  return facts.ackStats
    .map((s) => ({
      ...s,
      name: names.authority(s.authorityId),
      median: show(s.medianMs),
      p90: show(s.p90Ms),
      teams: s.teams
        .map((t) => ({ ...t, name: names.teamName(t.teamId), median: show(t.medianMs), p90: show(t.p90Ms) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
