import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export interface VersionListing {
  id: number;
  name: string;
  createdAt: string;
  /** The person (their email) when an admin made it; otherwise the actor as recorded (`cli`, `system`). */
  createdBy: string;
  source: string;
  summary: { authorities?: number; teams?: number; coverage?: number };
}

/** The directory's history, newest first, with each admin actor shown as the account's email. */
export async function listVersions(db: Kysely<Database>, limit = 50): Promise<VersionListing[]> {
  const rows = await db
    .selectFrom('directory_versions')
    .select(['id', 'name', 'created_at', 'created_by', 'source', 'summary'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const userIds = rows.flatMap((r) => (r.created_by.startsWith('user:') ? [r.created_by.slice(5)] : []));
  const users =
    userIds.length > 0
      ? await db.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).execute()
      : [];
  const emails = new Map(users.map((u) => [`user:${u.id}`, u.email]));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    createdBy: emails.get(r.created_by) ?? r.created_by,
    source: r.source,
    summary: JSON.parse(r.summary) as VersionListing['summary'],
  }));
}
