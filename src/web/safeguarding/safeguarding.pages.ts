import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { registerClosePages } from './close.pages.ts';
import { registerDashboardPage } from './dashboard.pages.ts';
import { registerEscalationPages } from './escalations.pages.ts';
import { registerReconcilePages } from './reconcile.pages.ts';
import { registerReferralPage } from './referral.pages.ts';
import { registerSearchPage } from './search.pages.ts';
import { registerTriagePages } from './triage.pages.ts';

/** The safeguarding team's pages; every route requires the `safeguarding` role. */
export function registerSafeguardingPages(app: FastifyInstance, ctx: RelayContext): void {
  registerDashboardPage(app, ctx);
  registerEscalationPages(app, ctx);
  registerTriagePages(app, ctx);
  registerSearchPage(app, ctx);
  registerReferralPage(app, ctx);
  registerClosePages(app, ctx);
  registerReconcilePages(app, ctx);
}
