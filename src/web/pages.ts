import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { registerSafeguardingPages } from './safeguarding/safeguarding.pages.ts';
import { registerCrewPages } from './crew/crew.pages.ts';
import { registerInboxPages } from './inbox/inbox.routes.ts';
import { registerAdminPages } from './admin/admin.pages.ts';
import { registerMailboxPages } from './mailbox/mailbox.pages.ts';
import { registerReviewPages } from './safeguarding/reviews.pages.ts';
import { registerAuditPages } from './audit/audit.pages.ts';
import { registerAuditCsv } from './audit/audit.csv.ts';
import { registerReferralLink } from './referral-link.pages.ts';

/**
 * Every area's pages, one line each. Each page route declares its roles with requireRole(), and a
 * test walks every route with every role to prove it.
 */
export function registerPages(
  app: FastifyInstance,
  ctx: RelayContext,
  // Whether the built-in mail catcher runs, for the Mailbox pages.
  options: { mailbox?: boolean } = {},
): void {
  void app;
  void ctx;
  registerSafeguardingPages(app, ctx);
  registerCrewPages(app, ctx);
  registerInboxPages(app, ctx);
  registerAdminPages(app, ctx);
  registerReviewPages(app, ctx);
  registerAuditPages(app, ctx);
  registerAuditCsv(app, ctx);
  registerReferralLink(app, ctx);
  // Only while the built-in mail catcher runs (the embedded default); production never has it.
  if (options.mailbox) registerMailboxPages(app, ctx);
}
