import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { londonLocal } from '../../directory/hours.ts';
import { listVersions } from './directory.queries.ts';
import { directoryView, VERIFY_WARNING_DAYS } from './directory.view.ts';

export function registerDirectoryPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: { saved?: string } }>('/admin/directory', async (request, reply) => {
    const versions = await listVersions(ctx.db.kysely);
    const current = await ctx.directories.current();
    const today = londonLocal(ctx.clock.now()).date;
    return reply.page('admin/directory.njk', {
      pageTitle: 'Directory',
      // Set by the edit pages' redirect: a new version's number, or `none` when the save changed nothing.
      saved: /^(?:\d+|none)$/.test(request.query.saved ?? '') ? request.query.saved : undefined,
      version: versions.find((v) => v.id === current?.versionId),
      versions,
      directory: current ? directoryView(current.directory, today) : undefined,
      today,
      warningDays: VERIFY_WARNING_DAYS,
    });
  });
}
