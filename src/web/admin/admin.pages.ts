import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { registerApiKeyPages } from './api-keys.pages.ts';
import { registerCoveragePages } from './coverage.pages.ts';
import { registerDirectoryPages } from './directory.pages.ts';
import { registerImportPages } from './import.pages.ts';
import { registerTeamEditPages } from './team-edit.pages.ts';
import { registerUserPages } from './users.pages.ts';

/**
 * The admin area: users, directory and API keys. No page here reads a referral, so an admin never
 * sees referral content (docs/operations.md, Roles).
 */
export function registerAdminPages(app: FastifyInstance, ctx: RelayContext): void {
  registerUserPages(app, ctx);
  registerDirectoryPages(app, ctx);
  registerTeamEditPages(app, ctx);
  registerCoveragePages(app, ctx);
  registerImportPages(app, ctx);
  registerApiKeyPages(app, ctx);
}
