import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { diffDirectories, isEmptyDiff } from '../../directory/directory.diff.ts';
import { parseDirectoryFile, type DirectoryIssue } from '../../directory/directory.schema.ts';
import { importWarnings, teamsInUse } from '../../directory/directory.guard.ts';
import { importDirectory, TeamsInUseError } from '../../directory/directory.service.ts';
import type { Directory } from '../../directory/directory.types.ts';
import { actorOf, adminForm, errorList, formField, type FieldErrors } from './forms.ts';

/** A directory file is ~60 KB and grows with coverage; form-encoding can triple it. */
const IMPORT_BODY_LIMIT = 4 * 1024 * 1024;

const EMPTY_DIRECTORY: Directory = { name: '', bankHolidays: [], authorities: [], coverage: [] };

type Checked =
  | { ok: true; directory: Directory; json: unknown }
  | { ok: false; fieldError?: string; issues: DirectoryIssue[] };

function check(text: string): Checked {
  if (!text) return { ok: false, fieldError: 'Paste the contents of a directory file', issues: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, fieldError: `This is not valid JSON: ${(error as Error).message}`, issues: [] };
  }
  const parsed = parseDirectoryFile(json);
  return parsed.ok
    ? { ok: true, directory: parsed.directory, json }
    : {
        ok: false,
        fieldError: `The file has ${parsed.errors.length} problems, listed below`,
        issues: parsed.errors,
      };
}

function formPage(reply: FastifyReply, text: string, problem?: Extract<Checked, { ok: false }>) {
  return reply.code(problem ? 422 : 200).page('admin/import.njk', {
    pageTitle: `${problem ? 'Error: ' : ''}Import a directory file`,
    text,
    error: problem?.fieldError,
    issues: problem?.issues ?? [],
    errorList: problem?.fieldError ? [{ text: problem.fieldError, href: '#json' }] : [],
  });
}

interface PreviewState {
  /** Someone changed the directory after the preview the admin confirmed. */
  stale?: boolean;
  errors?: FieldErrors;
  /** The confirmation's own fields, shown again beside their errors. */
  force?: boolean;
  reason?: string;
}

async function previewPage(
  reply: FastifyReply,
  ctx: RelayContext,
  text: string,
  directory: Directory,
  state: PreviewState = {},
) {
  const current = await ctx.directories.current();
  const diff = diffDirectories(current?.directory ?? EMPTY_DIRECTORY, directory);
  const errors = state.errors ?? {};
  return reply.page('admin/import-preview.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Check the changes`,
    text,
    diff,
    empty: isEmptyDiff(diff),
    basedOn: current?.versionId ?? 0,
    currentVersion: current?.versionId,
    stale: state.stale === true,
    inUse: await teamsInUse(ctx.db.kysely, diff),
    warnings: importWarnings(directory),
    errors,
    errorList: errorList(errors),
    force: state.force === true,
    reason: state.reason ?? '',
  });
}

const FORCE_NEEDS_REASON = 'Give the reason for removing or renaming teams that are still in use';

/** The errors beside the confirmation's fields when teams still in use were not confirmed. */
function inUseErrors(error: TeamsInUseError, reason: string): FieldErrors {
  const teams = error.teams.map((t) => t.teamId).join(', ');
  return {
    force: `Confirm that you want to remove or rename ${teams}, which ${error.teams.length === 1 ? 'is' : 'are'} still in use`,
    ...(reason ? {} : { reason: FORCE_NEEDS_REASON }),
  };
}

export function registerImportPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/admin/directory/import', async (_request, reply) => formPage(reply, ''));

  app.post(
    '/admin/directory/import',
    { ...adminForm(app), bodyLimit: IMPORT_BODY_LIMIT },
    async (request, reply) => {
      const text = formField(request.body, 'json');
      const checked = check(text);
      if (!checked.ok) return formPage(reply, text, checked);
      return previewPage(reply, ctx, text, checked.directory);
    },
  );

  // The confirmation re-sends the previewed text, so what is imported is exactly what was checked.
  app.post(
    '/admin/directory/import/confirm',
    { ...adminForm(app), bodyLimit: IMPORT_BODY_LIMIT },
    async (request, reply) => {
      const text = formField(request.body, 'json');
      const checked = check(text);
      if (!checked.ok) return formPage(reply, text, checked);
      const current = await ctx.directories.current();
      // Someone changed the directory after this preview was made: show the differences again.
      if ((current?.versionId ?? 0) !== Number(formField(request.body, 'basedOn'))) {
        return previewPage(reply.code(409), ctx, text, checked.directory, { stale: true });
      }
      if (current && isEmptyDiff(diffDirectories(current.directory, checked.directory))) {
        return reply.redirect('/admin/directory?saved=none', 303);
      }
      const force = formField(request.body, 'force') === 'yes';
      const reason = formField(request.body, 'reason');
      const state = { force, reason };
      if (force && !reason) {
        const errors = { reason: FORCE_NEEDS_REASON };
        return previewPage(reply.code(422), ctx, text, checked.directory, { ...state, errors });
      }
      try {
        const result = await importDirectory(ctx.db.kysely, ctx.clock, checked.json, {
          actor: actorOf(request),
          source: 'web import',
          ...(force ? { force: { reason } } : {}),
        });
        return reply.redirect(`/admin/directory?saved=${result.changed ? result.versionId : 'none'}`, 303);
      } catch (error) {
        if (!(error instanceof TeamsInUseError)) throw error;
        const errors = inUseErrors(error, reason);
        return previewPage(reply.code(409), ctx, text, checked.directory, { ...state, errors });
      }
    },
  );
}
