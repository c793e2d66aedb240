import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.ts';
import { registerSafeguardingPages } from './safeguarding/safeguarding.pages.ts';
import { registerCrewPages } from './crew/crew.pages.ts';
import { registerInboxPages } from './inbox/inbox.routes.ts';

/**
 * Every area's pages, one line each. Each page route declares its roles with requireRole(), and a
 * test walks every route with every role to prove it.
 */
export function registerPages(
  app: FastifyInstance,
  ctx: RelayContext,
  // Whether the built-in mail catcher runs, for the Mailbox pages.
  _options: { mailbox?: boolean } = {},
): void {
  void app;
  void ctx;
  registerSafeguardingPages(app, ctx);
  registerCrewPages(app, ctx);
  registerInboxPages(app, ctx);
}
