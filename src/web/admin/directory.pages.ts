import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { londonLocal } from '../../directory/hours.ts';
import { listVersions } from './directory.queries.ts';
import { directoryView, VERIFY_WARNING_DAYS } from './directory.view.ts';
import {
  filterAuthorities,
  isFiltered,
  readDirectoryFilter,
  type DirectoryQuery,
} from './directory.filter.ts';

export function registerDirectoryPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: { saved?: string } & DirectoryQuery }>(
    '/admin/directory',
    async (request, reply) => {
      const versions = await listVersions(ctx.db.kysely);
      const current = await ctx.directories.current();
      const today = londonLocal(ctx.clock.now()).date;
      const filter = readDirectoryFilter(request.query);
      const directory = current ? directoryView(current.directory, today) : undefined;
      const shown = directory ? filterAuthorities(directory.authorities, filter) : [];
      return reply.page('admin/directory.njk', {
        pageTitle: 'Directory',
        // Set by the edit pages' redirect: a new version's number, or `none` when the save changed nothing.
        saved: /^(?:\d+|none)$/.test(request.query.saved ?? '') ? request.query.saved : undefined,
        version: versions.find((v) => v.id === current?.versionId),
        versions,
        directory,
        // ~40 teams in full were 33,000 px: each authority is collapsed until the filter narrows it.
        filter,
        filtered: isFiltered(filter),
        shown,
        teamCount: shown.reduce((n, a) => n + a.teams.length, 0),
        authorityItems: [
          { value: '', text: 'All authorities' },
          ...(directory?.authorities ?? []).map((a) => ({
            value: a.id,
            text: a.name,
            selected: a.id === filter.authority,
          })),
        ],
        today,
        warningDays: VERIFY_WARNING_DAYS,
      });
    },
  );
}
