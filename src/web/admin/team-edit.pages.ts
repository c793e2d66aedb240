import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { describeHours } from '../../directory/directory.diff.ts';
import { editDirectory } from '../../directory/directory.edit.ts';
import type { Directory, Team } from '../../directory/directory.types.ts';
import { WEEKDAYS } from '../../directory/directory.types.ts';
import { RelayError } from '../../errors.ts';
import { actorOf, adminForm, errorList, formField, validationIssues, type FieldErrors } from './forms.ts';
import {
  applyForm,
  formFromBody,
  formFromTeam,
  hoursEditable,
  teamFormErrors,
  type TeamForm,
} from './team-edit.form.ts';
import { currentDirectory, findTeam, kindName, type TeamPlace } from './teams.ts';

interface Params {
  id: string;
}

const DAY_LABELS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function editPage(
  reply: FastifyReply,
  place: TeamPlace,
  basedOn: number,
  form: TeamForm,
  errors: FieldErrors = {},
) {
  const { team, authority } = place;
  return reply.page('admin/team-edit.njk', {
    pageTitle: `${Object.keys(errors).length > 0 ? 'Error: ' : ''}Edit ${team.name}`,
    team: { id: team.id, name: team.name, kindName: kindName(team.kind) },
    authority: { id: authority.id, name: authority.name },
    webhooks: team.channels.flatMap((c) => (c.kind === 'webhook' ? [{ url: c.url, owner: c.owner }] : [])),
    meshes: team.channels.flatMap((c) =>
      c.kind === 'mesh' ? [{ mailbox: c.mailbox, workflowId: c.workflowId, owner: c.owner }] : [],
    ),
    hoursEditable: hoursEditable(team.hours),
    hoursText: describeHours(team.hours),
    days: WEEKDAYS.map((day, i) => ({ day, label: DAY_LABELS[i], ...form.days[day] })),
    basedOn,
    form,
    errors,
    errorList: errorList(errors),
  });
}

function placeOrThrow(directory: Directory, teamId: string): TeamPlace {
  const place = findTeam(directory, teamId);
  if (!place) throw new RelayError('not-found', 'No team with that id in the current directory');
  return place;
}

function replaceTeam(changed: Team) {
  return (d: Directory): Directory => ({
    ...d,
    authorities: d.authorities.map((a) => ({
      ...a,
      teams: a.teams.map((t) => (t.id === changed.id ? changed : t)),
    })),
  });
}

export function registerTeamEditPages(app: FastifyInstance, ctx: RelayContext): void {
  app.get<{ Params: Params }>('/admin/directory/teams/:id/edit', async (request, reply) => {
    const current = await currentDirectory(ctx);
    const place = placeOrThrow(current.directory, request.params.id);
    return editPage(reply, place, current.versionId, formFromTeam(place.team));
  });

  app.post<{ Params: Params }>('/admin/directory/teams/:id/edit', adminForm(app), async (request, reply) => {
    const current = await currentDirectory(ctx);
    const place = placeOrThrow(current.directory, request.params.id);
    const form = formFromBody(request.body);
    const basedOn = Number(formField(request.body, 'basedOn')) || current.versionId;
    const { team, rows } = applyForm(place.team, form);
    try {
      const result = await editDirectory(ctx.db.kysely, ctx.clock, replaceTeam(team), actorOf(request), {
        source: `edit team ${team.id}`,
        basedOn,
      });
      return reply.redirect(
        `/admin/directory?saved=${result.changed ? result.versionId : 'none'}#team-${team.id}`,
        303,
      );
    } catch (error) {
      const issues = validationIssues(error);
      if (!issues) throw error;
      const errors = teamFormErrors(issues, place.path, rows);
      return editPage(reply.code(422), place, basedOn, form, errors);
    }
  });
}
