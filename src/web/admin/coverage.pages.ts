import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { editDirectory } from '../../directory/directory.edit.ts';
import type { CoverageEntry, Directory } from '../../directory/directory.types.ts';
import { classifyPrefix } from '../../directory/postcode.ts';
import {
  actorOf,
  adminForm,
  errorList,
  formField,
  formList,
  validationIssues,
  type FieldErrors,
} from './forms.ts';
import { currentDirectory } from './teams.ts';

interface CoverageForm {
  prefix: string;
  authority: string;
  split: string[];
  removePrefix: string;
}

const EMPTY: CoverageForm = { prefix: '', authority: '', split: [], removePrefix: '' };

async function coveragePage(
  reply: FastifyReply,
  ctx: RelayContext,
  form = EMPTY,
  errors: FieldErrors = {},
  saved?: string,
) {
  const { directory, versionId } = await currentDirectory(ctx);
  const names = new Map(directory.authorities.map((a) => [a.id, a.name]));
  const name = (id: string) => names.get(id) ?? id;
  return reply.page('admin/coverage.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Postcode coverage`,
    entries: [...directory.coverage]
      .sort((a, b) => a.prefix.localeCompare(b.prefix, 'en', { numeric: true }))
      .map((c) => ({
        prefix: c.prefix,
        target: c.split ? `Split: ${c.split.map(name).join(', ')}` : name(c.authorityId ?? ''),
      })),
    authorityItems: [
      { value: '', text: 'Choose an authority', selected: form.authority === '' },
      ...directory.authorities.map((a) => ({ value: a.id, text: a.name, selected: a.id === form.authority })),
    ],
    splitItems: directory.authorities.map((a) => ({
      value: a.id,
      text: a.name,
      checked: form.split.includes(a.id),
    })),
    basedOn: versionId,
    saved,
    form,
    errors,
    errorList: errorList(errors),
  });
}

const normalise = (prefix: string) => classifyPrefix(prefix)?.prefix ?? prefix.trim().toUpperCase();

/** The entry the form asks for, or the problems that stop it being made. */
function entryFromForm(form: CoverageForm): { entry?: CoverageEntry; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!form.prefix) errors.prefix = 'Enter a postcode prefix, like B15, B15 2 or B15 2TT';
  if (form.split.length === 1) errors.split = 'Tick at least two authorities for a split, or none';
  else if (form.split.length === 0 && !form.authority)
    errors.authority = 'Choose the authority that covers this prefix';
  if (Object.keys(errors).length > 0) return { errors };
  const prefix = normalise(form.prefix);
  return {
    entry: form.split.length >= 2 ? { prefix, split: form.split } : { prefix, authorityId: form.authority },
    errors,
  };
}

function upsert(entry: CoverageEntry) {
  return (d: Directory): Directory => {
    const at = d.coverage.findIndex((c) => c.prefix === entry.prefix);
    const coverage = at >= 0 ? d.coverage.map((c, i) => (i === at ? entry : c)) : [...d.coverage, entry];
    return { ...d, coverage };
  };
}

function coverageErrors(paths: string[], index: number): FieldErrors {
  const errors: FieldErrors = {};
  for (const path of paths) {
    if (path === `coverage.${index}.prefix`)
      errors.prefix ??=
        'Enter a postcode area, district, sector or full postcode, like B15, B15 2 or B15 2TT';
    else if (path.startsWith(`coverage.${index}.`))
      errors.split ??= 'Choose authorities that are in the directory';
    else errors.form ??= `The directory would not be valid (${path})`;
  }
  return errors;
}

const basedOnOf = (body: unknown) => Number(formField(body, 'basedOn')) || undefined;

async function saveEntry(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const form = {
    ...EMPTY,
    prefix: formField(request.body, 'prefix'),
    authority: formField(request.body, 'authority'),
    split: formList(request.body, 'split'),
  };
  const { entry, errors } = entryFromForm(form);
  if (!entry) return coveragePage(reply.code(422), ctx, form, errors);
  const { directory } = await currentDirectory(ctx);
  const existing = directory.coverage.findIndex((c) => c.prefix === entry.prefix);
  try {
    const result = await editDirectory(ctx.db.kysely, ctx.clock, upsert(entry), actorOf(request), {
      source: `edit coverage ${entry.prefix}`,
      basedOn: basedOnOf(request.body),
    });
    return reply.redirect(
      `/admin/directory/coverage?saved=${result.changed ? result.versionId : 'none'}`,
      303,
    );
  } catch (error) {
    const issues = validationIssues(error);
    if (!issues) throw error;
    const index = existing >= 0 ? existing : directory.coverage.length;
    const paths = issues.map((i) => i.path);
    return coveragePage(reply.code(422), ctx, form, coverageErrors(paths, index));
  }
}

async function removeEntry(ctx: RelayContext, request: FastifyRequest, reply: FastifyReply) {
  const form = { ...EMPTY, removePrefix: formField(request.body, 'removePrefix') };
  const prefix = normalise(form.removePrefix);
  const { directory } = await currentDirectory(ctx);
  if (!directory.coverage.some((c) => c.prefix === prefix)) {
    const message = form.removePrefix
      ? 'There is no coverage entry for that prefix'
      : 'Enter the prefix to remove';
    return coveragePage(reply.code(422), ctx, form, { removePrefix: message });
  }
  const remove = (d: Directory) => ({ ...d, coverage: d.coverage.filter((c) => c.prefix !== prefix) });
  const result = await editDirectory(ctx.db.kysely, ctx.clock, remove, actorOf(request), {
    source: `remove coverage ${prefix}`,
    basedOn: basedOnOf(request.body),
  });
  return reply.redirect(`/admin/directory/coverage?saved=${result.versionId}`, 303);
}

export function registerCoveragePages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Querystring: { saved?: string } }>('/admin/directory/coverage', async (request, reply) => {
    const saved = request.query.saved;
    return coveragePage(reply, ctx, EMPTY, {}, saved && /^(?:\d+|none)$/.test(saved) ? saved : undefined);
  });
  app.post('/admin/directory/coverage', adminForm(app), async (request, reply) =>
    saveEntry(ctx, request, reply),
  );
  app.post('/admin/directory/coverage/remove', adminForm(app), async (request, reply) =>
    removeEntry(ctx, request, reply),
  );
}
