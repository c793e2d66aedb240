/** The routing directory: who covers which postcodes, and how to reach each team. */

export type TeamKind = 'adults' | 'children' | 'out-of-hours';
export type EmailDetail = 'minimal' | 'full';

export interface EmailChannel {
  kind: 'email';
  role: 'primary' | 'secondary';
  address: string;
  owner: string;
  /** YYYY-MM-DD: the owner must re-confirm the address by then. */
  verifyBy: string;
}

/** What a webhook's POST carries: Relay's JSON, or the referral as a FHIR R4 message Bundle. */
export type WebhookFormat = 'json' | 'fhir';

export interface WebhookChannel {
  kind: 'webhook';
  url: string;
  secret: string;
  /** Absent is `json`, Relay's own form. */
  format?: WebhookFormat;
  owner: string;
  verifyBy: string;
}

/**
 * An NHS MESH mailbox: Relay sends the referral to it from its own mailbox (MESH_MAILBOX), under the
 * workflow the team's MESH client expects.
 */
export interface MeshChannel {
  kind: 'mesh';
  /** The team's MESH mailbox id, e.g. `X26ABC2`. */
  mailbox: string;
  /** The MESH workflow id the message is sent under. */
  workflowId: string;
  owner: string;
  verifyBy: string;
}

export type Channel = EmailChannel | WebhookChannel | MeshChannel;

/** What makes two entries of a team the same destination: an address is compared without case. */
export function channelKey(channel: Channel): string {
  return channel.kind === 'email'
    ? `email:${channel.address.toLowerCase()}`
    : `${channel.kind}:${channelAddress(channel)}`;
}

/** Where a directory entry sends: the email address, the webhook's URL or the MESH mailbox. */
export function channelAddress(channel: Channel): string {
  if (channel.kind === 'email') return channel.address;
  return channel.kind === 'webhook' ? channel.url : channel.mailbox;
}

export interface Phone {
  label: string;
  number: string;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface OpeningHours {
  always?: boolean;
  /** 'HH:MM' local Europe/London; an end of '24:00' means midnight at the end of that day. */
  weekly?: Partial<Record<Weekday, [string, string][]>>;
  openOnBankHolidays?: boolean;
}

export interface Team {
  id: string;
  authorityId: string;
  kind: TeamKind;
  name: string;
  emailDetail: EmailDetail;
  channels: Channel[];
  phones: Phone[];
  hours: OpeningHours;
}

export interface Authority {
  id: string;
  name: string;
  teams: Team[];
}

export interface CoverageEntry {
  /** Normalised: 'B', 'B15', 'B15 2' or 'B15 2TT'. */
  prefix: string;
  authorityId?: string;
  /** Authority ids, when the prefix straddles authorities. */
  split?: string[];
}

export interface BankHoliday {
  date: string;
  name: string;
}

export interface Directory {
  name: string;
  bankHolidays: BankHoliday[];
  authorities: Authority[];
  coverage: CoverageEntry[];
}

interface DirectoryIndex {
  teams: Map<string, Team>;
  authorities: Map<string, Authority>;
}

const indexes = new WeakMap<Directory, DirectoryIndex>();

/**
 * Teams and authorities by id, made once per loaded directory: every email sent and every status
 * document looked its teams up, and a walk of the whole directory per lookup showed in a burst's
 * profile. A loaded version is never changed (an edit works on a copy and saves a new version).
 * The first of a repeated id wins, as a search in file order would find it.
 */
function indexOf(directory: Directory): DirectoryIndex {
  let index = indexes.get(directory);
  if (!index) {
    index = { teams: new Map(), authorities: new Map() };
    for (const authority of directory.authorities) {
      if (!index.authorities.has(authority.id)) index.authorities.set(authority.id, authority);
      for (const team of authority.teams) if (!index.teams.has(team.id)) index.teams.set(team.id, team);
    }
    indexes.set(directory, index);
  }
  return index;
}

/** The team with this id in a directory version, if that version has one. */
export function findTeam(directory: Directory | undefined, teamId: string): Team | undefined {
  return directory && indexOf(directory).teams.get(teamId);
}

/** The authority with this id in a directory version, if that version has one. */
export function findAuthority(directory: Directory | undefined, authorityId: string): Authority | undefined {
  return directory && indexOf(directory).authorities.get(authorityId);
}

/** A team the router or a plan already chose: its absence is a bug, not bad input. */
export function chosenTeam(directory: Directory | undefined, teamId: string): Team {
  const team = findTeam(directory, teamId);
  if (!team) throw new Error(`Team ${teamId} is not in the directory`);
  return team;
}
