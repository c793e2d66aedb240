import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { diffDirectories, isEmptyDiff } from '../../directory/directory.diff.ts';
import { parseDirectoryFile, type DirectoryIssue } from '../../directory/directory.schema.ts';
import { importDirectory } from '../../directory/directory.service.ts';
import type { Directory } from '../../directory/directory.types.ts';
import { actorOf, adminForm, adminPage, formField } from './forms.ts';

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

async function previewPage(
  reply: FastifyReply,
  ctx: RelayContext,
  text: string,
  directory: Directory,
  stale = false,
) {
  const current = await ctx.directories.current();
  const diff = diffDirectories(current?.directory ?? EMPTY_DIRECTORY, directory);
  return reply.page('admin/import-preview.njk', {
    pageTitle: 'Check the changes',
    text,
    diff,
    empty: isEmptyDiff(diff),
    basedOn: current?.versionId ?? 0,
    currentVersion: current?.versionId,
    stale,
  });
}

export function registerImportPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get('/admin/directory/import', adminPage, async (_request, reply) => formPage(reply, ''));

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
        return previewPage(reply.code(409), ctx, text, checked.directory, true);
      }
      if (current && isEmptyDiff(diffDirectories(current.directory, checked.directory))) {
        return reply.redirect('/admin/directory?saved=none', 303);
      }
      const result = await importDirectory(ctx.db.kysely, ctx.clock, checked.json, {
        actor: actorOf(request),
        source: 'web import',
      });
      return reply.redirect(`/admin/directory?saved=${result.changed ? result.versionId : 'none'}`, 303);
    },
  );
}
