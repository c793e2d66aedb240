import type { FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import type { Authority, Directory, Team } from '../../directory/directory.types.ts';
import type { Resolver } from '../../records/escalation.service.ts';
import type { User } from '../../access/user.service.ts';

/** The safeguarding area's guard (registerArea) has run, so a handler here always has a user; this makes that explicit. */
export function signedInUser(request: FastifyRequest): User {
  if (!request.user) throw new Error('A safeguarding page ran outside its area guard');
  return request.user;
}

/** The signed-in person as the named resolver on escalations and triage: their name, audited by id. */
export function resolverOf(user: User): Resolver {
  return { name: user.name, actor: `user:${user.id}` };
}

/** A trimmed form field; absent, repeated or non-text fields read as empty. */
export function formField(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

/** The error summary's list, in the order of the form, each linking to its field's id. */
export function errorList(errors: Record<string, string>, fieldIds: Record<string, string>) {
  return Object.entries(errors).map(([field, text]) => ({ text, href: `#${fieldIds[field] ?? field}` }));
}

export interface Names {
  authority(id: string): string;
  team(id: string): Team | undefined;
  teamName(id: string): string;
}

/** Look-ups by id into one directory version; an id missing from it is shown as the id itself. */
export function namesIn(directory: Directory | undefined): Names {
  const authorities = new Map<string, Authority>(directory?.authorities.map((a) => [a.id, a]));
  const teams = new Map<string, Team>(directory?.authorities.flatMap((a) => a.teams.map((t) => [t.id, t])));
  return {
    authority: (id) => authorities.get(id)?.name ?? id,
    team: (id) => teams.get(id),
    teamName: (id) => teams.get(id)?.name ?? id,
  };
}

/** Names from the current directory: what the team is called today. */
export async function currentNames(ctx: RelayContext): Promise<Names> {
  return namesIn((await ctx.directories.current())?.directory);
}
