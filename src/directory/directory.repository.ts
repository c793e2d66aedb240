import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type {
  Channel,
  Directory,
  EmailDetail,
  OpeningHours,
  Team,
  TeamKind,
  WebhookFormat,
} from './directory.types.ts';

export interface DirectoryVersion {
  id: number;
  name: string;
  createdAt: string;
  createdBy: string;
  source: string;
  checksum: string;
}

export async function latestVersion(db: Kysely<Database>): Promise<DirectoryVersion | undefined> {
  const row = await db
    .selectFrom('directory_versions')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { ...row, createdAt: row.created_at, createdBy: row.created_by };
}

export async function insertVersion(
  trx: Kysely<Database>,
  directory: Directory,
  meta: { at: string; createdBy: string; source: string; checksum: string },
): Promise<number> {
  const summary = {
    authorities: directory.authorities.length,
    teams: directory.authorities.reduce((n, a) => n + a.teams.length, 0),
    coverage: directory.coverage.length,
  };
  const { id } = await trx
    .insertInto('directory_versions')
    .values({
      name: directory.name,
      created_at: meta.at,
      created_by: meta.createdBy,
      source: meta.source,
      checksum: meta.checksum,
      summary: JSON.stringify(summary),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await insertContents(trx, id, directory);
  return id;
}

async function insertContents(trx: Kysely<Database>, versionId: number, directory: Directory): Promise<void> {
  const version_id = versionId;
  const teams = directory.authorities.flatMap((a) => a.teams);
  await trx
    .insertInto('authorities')
    .values(directory.authorities.map((a) => ({ version_id, id: a.id, name: a.name })))
    .execute();
  await insertChunked(
    trx,
    'teams',
    teams.map((t) => ({
      version_id,
      id: t.id,
      authority_id: t.authorityId,
      kind: t.kind,
      name: t.name,
      email_detail: t.emailDetail,
      hours: JSON.stringify(t.hours),
    })),
  );
  await insertChunked(
    trx,
    'team_channels',
    teams.flatMap((t) => t.channels.map((c, i) => channelRow(version_id, t, c, i))),
  );
  await insertChunked(
    trx,
    'team_phones',
    teams.flatMap((t) => t.phones.map((p, position) => ({ version_id, team_id: t.id, position, ...p }))),
  );
  await insertChunked(
    trx,
    'bank_holidays',
    directory.bankHolidays.map((h) => ({ version_id, ...h })),
  );
  await insertChunked(
    trx,
    'coverage',
    directory.coverage.map((c) => ({
      version_id,
      prefix: c.prefix,
      authority_id: c.authorityId ?? null,
      split: c.split ? JSON.stringify(c.split) : null,
    })),
  );
}

function channelRow(version_id: number, team: Team, channel: Channel, position: number) {
  const common = {
    version_id,
    team_id: team.id,
    position,
    owner: channel.owner,
    verify_by: channel.verifyBy,
  };
  const none = { role: null, secret: null, format: null, workflow_id: null };
  switch (channel.kind) {
    case 'email':
      return { ...common, ...none, kind: 'email', role: channel.role, address: channel.address };
    case 'webhook':
      return {
        ...common,
        ...none,
        kind: 'webhook',
        address: channel.url,
        secret: channel.secret,
        format: channel.format ?? null,
      };
    case 'mesh':
      return { ...common, ...none, kind: 'mesh', address: channel.mailbox, workflow_id: channel.workflowId };
  }
}

type ChunkTable = 'teams' | 'team_channels' | 'team_phones' | 'bank_holidays' | 'coverage';

// SQLite caps bound parameters per statement, so large directories are written in slices.
async function insertChunked<T extends ChunkTable>(
  trx: Kysely<Database>,
  table: T,
  rows: Parameters<ReturnType<Kysely<Database>['insertInto']>['values']>[0][],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await trx
      .insertInto(table)
      .values(rows.slice(i, i + 200) as never)
      .execute();
  }
}

/** Loads one whole directory version into the domain shape the router works on. */
export async function loadDirectory(db: Kysely<Database>, versionId: number): Promise<Directory> {
  const [version, authorities, teams, channels, phones, holidays, coverage] = await Promise.all([
    db.selectFrom('directory_versions').selectAll().where('id', '=', versionId).executeTakeFirstOrThrow(),
    db.selectFrom('authorities').selectAll().where('version_id', '=', versionId).orderBy('id').execute(),
    db.selectFrom('teams').selectAll().where('version_id', '=', versionId).orderBy('id').execute(),
    db
      .selectFrom('team_channels')
      .selectAll()
      .where('version_id', '=', versionId)
      .orderBy('position')
      .execute(),
    db
      .selectFrom('team_phones')
      .selectAll()
      .where('version_id', '=', versionId)
      .orderBy('position')
      .execute(),
    db.selectFrom('bank_holidays').selectAll().where('version_id', '=', versionId).orderBy('date').execute(),
    db.selectFrom('coverage').selectAll().where('version_id', '=', versionId).orderBy('prefix').execute(),
  ]);
  const toTeam = (row: (typeof teams)[number]): Team => ({
    id: row.id,
    authorityId: row.authority_id,
    kind: row.kind as TeamKind,
    name: row.name,
    emailDetail: row.email_detail as EmailDetail,
    hours: JSON.parse(row.hours) as OpeningHours,
    channels: channels.filter((c) => c.team_id === row.id).map(channelRowToChannel),
    phones: phones.filter((p) => p.team_id === row.id).map((p) => ({ label: p.label, number: p.number })),
  });
  return {
    name: version.name,
    bankHolidays: holidays.map((h) => ({ date: h.date, name: h.name })),
    authorities: authorities.map((a) => ({
      id: a.id,
      name: a.name,
      teams: teams.filter((t) => t.authority_id === a.id).map(toTeam),
    })),
    coverage: coverage.map((c) => ({
      prefix: c.prefix,
      ...(c.authority_id ? { authorityId: c.authority_id } : {}),
      ...(c.split ? { split: JSON.parse(c.split) as string[] } : {}),
    })),
  };
}

function channelRowToChannel(row: Database['team_channels']): Channel {
  const common = { owner: row.owner, verifyBy: row.verify_by };
  if (row.kind === 'webhook') {
    const format =
      row.format === 'fhir' || row.format === 'json' ? { format: row.format as WebhookFormat } : {};
    return { kind: 'webhook', url: row.address, secret: row.secret ?? '', ...format, ...common };
  }
  if (row.kind === 'mesh') {
    return { kind: 'mesh', mailbox: row.address, workflowId: row.workflow_id ?? '', ...common };
  }
  return {
    kind: 'email',
    role: row.role === 'secondary' ? 'secondary' : 'primary',
    address: row.address,
    ...common,
  };
}
