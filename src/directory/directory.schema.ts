import { z } from 'zod';
import { channelKey, type CoverageEntry, type Directory, type TeamKind } from './directory.types.ts';
import { isValidIsoDate, parseClock } from './hours.ts';
import { classifyPrefix } from './postcode.ts';

export interface DirectoryIssue {
  path: string;
  message: string;
}

export type ParseDirectoryResult =
  { ok: true; directory: Directory } | { ok: false; errors: DirectoryIssue[] };

const Id = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case letters and digits joined by hyphens');
const Text = z.string().trim().min(1, 'must not be empty');
const IsoDate = z.string().refine(isValidIsoDate, 'must be a calendar date YYYY-MM-DD');
const Clock = z.string().refine((s) => parseClock(s) !== null, 'must be a time HH:MM from 00:00 to 24:00');
const Range = z
  .tuple([Clock, Clock])
  .refine(([from, to]) => (parseClock(from) ?? 0) < (parseClock(to) ?? 0), 'must open before it closes');

// Referral content crosses this URL, so plain http is allowed only to a local test receiver.
function isWebhookUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const url = new URL(s);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && local);
}

const EmailChannel = z.strictObject({
  kind: z.literal('email'),
  role: z.enum(['primary', 'secondary']),
  address: z.email('must be an email address'),
  owner: Text,
  verifyBy: IsoDate,
});

const WebhookChannel = z.strictObject({
  kind: z.literal('webhook'),
  url: z.string().refine(isWebhookUrl, 'must be an https:// URL (http:// only for localhost)'),
  secret: z.string().min(16, 'must be at least 16 characters'),
  format: z.enum(['json', 'fhir'], 'must be json or fhir').optional(),
  owner: Text,
  verifyBy: IsoDate,
});

// MESH ids are upper-case letters, digits and a few separators; MESH refuses URLs and control characters.
const MeshChannel = z.strictObject({
  kind: z.literal('mesh'),
  mailbox: z
    .string()
    .regex(/^[A-Z0-9]{1,20}$/, 'must be a MESH mailbox id: capital letters and digits, e.g. X26ABC2'),
  workflowId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a MESH workflow id: letters, digits, _ . or -'),
  owner: Text,
  verifyBy: IsoDate,
});

const Team = z.strictObject({
  id: Id,
  kind: z.enum(['adults', 'children', 'out-of-hours']),
  name: Text,
  emailDetail: z.enum(['minimal', 'full']).default('minimal'),
  channels: z.array(
    z.discriminatedUnion('kind', [EmailChannel, WebhookChannel, MeshChannel], {
      error: 'kind must be email, webhook or mesh',
    }),
  ),
  // Escalations put a phone number in front of a person; a team without one cannot be chased.
  phones: z
    .array(
      z.strictObject({
        label: Text,
        number: z.string().regex(/^\+?[0-9][0-9 ]{5,19}$/, 'must be a phone number'),
      }),
    )
    .min(1, 'a team needs at least one phone number'),
  hours: z.strictObject({
    always: z.boolean().optional(),
    weekly: z
      .partialRecord(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), z.array(Range))
      .optional(),
    openOnBankHolidays: z.boolean().optional(),
  }),
});

const Coverage = z
  .strictObject({
    prefix: z.string(),
    authority: Id.optional(),
    split: z.array(Id).min(2, 'a split needs at least two authorities').optional(),
  })
  .refine((c) => (c.authority === undefined) !== (c.split === undefined), 'give either authority or split');

export const DirectoryFile = z.object({
  name: Text,
  bankHolidays: z.array(z.strictObject({ date: IsoDate, name: Text })),
  authorities: z.array(z.strictObject({ id: Id, name: Text, teams: z.array(Team) })),
  coverage: z.array(Coverage),
});

export type DirectoryFileInput = z.input<typeof DirectoryFile>;
type DirectoryFileData = z.output<typeof DirectoryFile>;
type FileTeam = DirectoryFileData['authorities'][number]['teams'][number];
type Report = (path: string, message: string) => void;

function firstSeen<K>(seen: Map<K, string>, key: K, path: string): string | undefined {
  const first = seen.get(key);
  if (first === undefined) seen.set(key, path);
  return first;
}

function checkChannels(team: FileTeam, at: string, report: Report): void {
  const primaries = team.channels.flatMap((c, i) => (c.kind === 'email' && c.role === 'primary' ? [i] : []));
  if (primaries.length === 0) {
    report(`${at}.channels`, 'a team needs exactly one primary email channel; none found');
  }
  for (const i of primaries.slice(1)) {
    report(
      `${at}.channels.${i}.role`,
      `a team needs exactly one primary email channel; first at channels.${primaries[0]}`,
    );
  }
  const addresses = new Map<string, string>();
  team.channels.forEach((c, i) => {
    const key = channelKey(c);
    const field = { email: 'address', webhook: 'url', mesh: 'mailbox' }[c.kind];
    const first = firstSeen(addresses, key, `${at}.channels.${i}`);
    if (first !== undefined) report(`${at}.channels.${i}.${field}`, `repeats ${first} in the same team`);
  });
}

function checkAuthorities(file: DirectoryFileData, report: Report): void {
  const authorityIds = new Map<string, string>();
  const teamIds = new Map<string, string>();
  file.authorities.forEach((authority, a) => {
    const first = firstSeen(authorityIds, authority.id, `authorities.${a}`);
    if (first !== undefined) {
      report(`authorities.${a}.id`, `duplicate authority id "${authority.id}" (first at ${first})`);
    }
    const kinds = new Map<TeamKind, string>();
    authority.teams.forEach((team, t) => {
      const at = `authorities.${a}.teams.${t}`;
      const firstTeam = firstSeen(teamIds, team.id, at);
      if (firstTeam !== undefined) {
        report(`${at}.id`, `duplicate team id "${team.id}" (first at ${firstTeam})`);
      }
      const firstKind = firstSeen(kinds, team.kind, at);
      if (firstKind !== undefined) {
        report(`${at}.kind`, `a second ${team.kind} team in this authority (first at ${firstKind})`);
      }
      checkChannels(team, at, report);
    });
  });
}

function checkCoverage(file: DirectoryFileData, report: Report): void {
  const known = new Set(file.authorities.map((a) => a.id));
  const prefixes = new Map<string, string>();
  file.coverage.forEach((entry, i) => {
    const at = `coverage.${i}`;
    const prefix = classifyPrefix(entry.prefix);
    if (!prefix) {
      report(`${at}.prefix`, `"${entry.prefix}" is not a postcode area, district, sector or full postcode`);
    }
    const first = prefix && firstSeen(prefixes, prefix.prefix, at);
    if (first) report(`${at}.prefix`, `${prefix.prefix} is already covered at ${first}`);
    if (entry.authority !== undefined && !known.has(entry.authority)) {
      report(`${at}.authority`, `unknown authority "${entry.authority}"`);
    }
    entry.split?.forEach((id, j) => {
      if (!known.has(id)) report(`${at}.split.${j}`, `unknown authority "${id}"`);
      else if (entry.split?.indexOf(id) !== j) report(`${at}.split.${j}`, `"${id}" is listed twice`);
    });
  });
}

function checkBankHolidays(file: DirectoryFileData, report: Report): void {
  const dates = new Map<string, string>();
  file.bankHolidays.forEach((holiday, i) => {
    const first = firstSeen(dates, holiday.date, `bankHolidays.${i}`);
    if (first !== undefined) {
      report(`bankHolidays.${i}.date`, `${holiday.date} is already listed at ${first}`);
    }
  });
}

function toDirectory(file: DirectoryFileData): Directory {
  return {
    name: file.name,
    bankHolidays: file.bankHolidays,
    authorities: file.authorities.map((a) => ({
      ...a,
      teams: a.teams.map((t) => ({ ...t, authorityId: a.id })),
    })),
    coverage: file.coverage.map((c): CoverageEntry => {
      const prefix = classifyPrefix(c.prefix)?.prefix ?? c.prefix;
      return c.split === undefined ? { prefix, authorityId: c.authority ?? '' } : { prefix, split: c.split };
    }),
  };
}

// A misspelt field is named in the path itself, so an editor can jump straight to it.
function toIssues(issue: z.core.$ZodIssue): DirectoryIssue[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'is not a known field' }));
  }
  return [{ path: path.join('.'), message: issue.message }];
}

/** Structure first; the cross-reference rules run once the structure is sound enough to follow. */
export function parseDirectoryFile(json: unknown): ParseDirectoryResult {
  const parsed = DirectoryFile.safeParse(json);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.flatMap(toIssues) };
  }
  const errors: DirectoryIssue[] = [];
  const report: Report = (path, message) => errors.push({ path, message });
  checkAuthorities(parsed.data, report);
  checkCoverage(parsed.data, report);
  checkBankHolidays(parsed.data, report);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, directory: toDirectory(parsed.data) };
}
