import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { registerSafeguardingPages } from './safeguarding/safeguarding.pages.ts';
import { registerCrewPages } from './crew/crew.pages.ts';
import { registerInboxPages } from './inbox/inbox.routes.ts';
import { registerAdminPages } from './admin/admin.pages.ts';
import { registerMailboxPages } from './mailbox/mailbox.pages.ts';
import { registerReviewPages, registerReviewReports } from './safeguarding/reviews.pages.ts';
import { registerAuditPages } from './audit/audit.pages.ts';
import { registerAuditCsv } from './audit/audit.csv.ts';
import { registerReferralLink } from './referral-link.pages.ts';
import { registerArea } from './auth/guards.ts';
import { ROLES } from '../access/user.service.ts';

/**
 * Every area's pages, one line each. Each area registers its role guard once, around all of its
 * routes (registerArea), and a test walks every route with every role to prove it.
 */
export function registerPages(
  app: FastifyInstance,
  ctx: RelayContext,
  // Whether the built-in mail catcher runs, for the Mailbox pages.
  options: { mailbox?: boolean } = {},
): void {
  void app;
  void ctx;
  registerArea(app, ['safeguarding'], (area) => {
    registerSafeguardingPages(area, ctx);
    registerReviewPages(area, ctx);
  });
  // Auditors read the incident reviews' reports (read-only pages and downloads).
  registerArea(app, ['safeguarding', 'auditor'], (area) => registerReviewReports(area, ctx));
  registerCrewPages(app, ctx);
  registerArea(app, ['recipient'], (area) => registerInboxPages(area, ctx));
  registerArea(app, ['admin'], (area) => registerAdminPages(area, ctx));
  registerArea(app, ['auditor'], (area) => {
    registerAuditPages(area, ctx);
    registerAuditCsv(area, ctx);
  });
  registerReferralLink(app, ctx);
  // Only while the built-in mail catcher runs (the embedded default); production never has it.
  if (options.mailbox) registerArea(app, ROLES, (area) => registerMailboxPages(area, ctx));
}
