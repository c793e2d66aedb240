import type {
  BankHoliday,
  Channel,
  CoverageEntry,
  Directory,
  OpeningHours,
  Team,
} from './directory.types.ts';
import { channelAddress, channelKey, WEEKDAYS, type Weekday } from './directory.types.ts';

/** What an import would change, for a person to check before confirming. Ids, never secrets. */
export interface DirectoryDiff {
  name?: { before: string; after: string };
  authorities: {
    added: { id: string; name: string }[];
    removed: { id: string; name: string }[];
    renamed: { id: string; before: string; after: string }[];
  };
  teams: {
    added: { id: string; authorityId: string; name: string }[];
    removed: { id: string; authorityId: string; name: string }[];
    changed: { id: string; authorityId: string; changes: FieldChange[] }[];
  };
  /** Email addresses, webhook URLs and MESH mailboxes, matched within their team. */
  addresses: AddressChange[];
  coverage: {
    added: { prefix: string; after: string }[];
    removed: { prefix: string; before: string }[];
    changed: { prefix: string; before: string; after: string }[];
  };
  bankHolidays: { added: BankHoliday[]; removed: BankHoliday[] };
}

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface AddressChange {
  teamId: string;
  kind: Channel['kind'];
  /** The email address, the webhook's URL or the MESH mailbox. */
  address: string;
  change: 'added' | 'removed' | 'changed';
  /** For `changed`: role, format, MESH workflow, owner, re-verification date; a webhook secret is named, never shown. */
  changes: FieldChange[];
}

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

/** Opening hours as a person reads them: "Mon–Fri 08:30–17:00", "Sat, Sun closed", "Closed on bank holidays". */
export function describeHours(hours: OpeningHours): string[] {
  if (hours.always) return ['Open 24 hours, every day'];
  const text = (day: Weekday) =>
    (hours.weekly?.[day] ?? []).map(([from, to]) => `${from}–${to}`).join(', ') || 'closed';
  const lines: string[] = [];
  let start = 0;
  WEEKDAYS.forEach((day, i) => {
    const next = WEEKDAYS[i + 1];
    if (next !== undefined && text(next) === text(day)) return;
    const first = WEEKDAYS[start] as Weekday;
    const days = start === i ? DAY_NAMES[day] : `${DAY_NAMES[first]}–${DAY_NAMES[day]}`;
    lines.push(`${days} ${text(day)}`);
    start = i + 1;
  });
  lines.push(hours.openOnBankHolidays ? 'Open on bank holidays' : 'Closed on bank holidays');
  return lines;
}

export function describeCoverage(entry: CoverageEntry): string {
  return entry.split ? `split: ${entry.split.join(', ')}` : (entry.authorityId ?? '');
}

function byKey<T>(items: T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

function fieldChanges(pairs: [string, string, string][]): FieldChange[] {
  return pairs.filter(([, b, a]) => b !== a).map(([field, before, after]) => ({ field, before, after }));
}

function teamFieldChanges(before: Team, after: Team): FieldChange[] {
  const phones = (t: Team) => t.phones.map((p) => `${p.label}: ${p.number}`).join('; ');
  return fieldChanges([
    ['authority', before.authorityId, after.authorityId],
    ['name', before.name, after.name],
    ['kind', before.kind, after.kind],
    ['email detail', before.emailDetail, after.emailDetail],
    ['phones', phones(before), phones(after)],
    ['hours', describeHours(before.hours).join('; '), describeHours(after.hours).join('; ')],
  ]);
}

function channelChanges(before: Channel, after: Channel): FieldChange[] {
  const role = (c: Channel) => (c.kind === 'email' ? c.role : '');
  const format = (c: Channel) => (c.kind === 'webhook' ? (c.format ?? 'json') : '');
  const workflow = (c: Channel) => (c.kind === 'mesh' ? c.workflowId : '');
  const changes = fieldChanges([
    ['role', role(before), role(after)],
    ['format', format(before), format(after)],
    ['workflow', workflow(before), workflow(after)],
    ['owner', before.owner, after.owner],
    ['re-verify by', before.verifyBy, after.verifyBy],
  ]);
  if (before.kind === 'webhook' && after.kind === 'webhook' && before.secret !== after.secret) {
    changes.push({ field: 'secret', before: '(hidden)', after: '(changed)' });
  }
  return changes;
}

function addressChanges(teamId: string, before: Channel[], after: Channel[]): AddressChange[] {
  const was = byKey(before, channelKey);
  const now = byKey(after, channelKey);
  const ref = (c: Channel) => ({ teamId, kind: c.kind, address: channelAddress(c) });
  const changes: AddressChange[] = [];
  for (const [key, c] of now) {
    const old = was.get(key);
    if (!old) changes.push({ ...ref(c), change: 'added', changes: [] });
    else {
      const fields = channelChanges(old, c);
      if (fields.length > 0) changes.push({ ...ref(c), change: 'changed', changes: fields });
    }
  }
  for (const [key, c] of was) {
    if (!now.has(key)) changes.push({ ...ref(c), change: 'removed', changes: [] });
  }
  return changes;
}

function diffTeams(before: Directory, after: Directory): Pick<DirectoryDiff, 'teams' | 'addresses'> {
  const was = byKey(
    before.authorities.flatMap((a) => a.teams),
    (t) => t.id,
  );
  const now = byKey(
    after.authorities.flatMap((a) => a.teams),
    (t) => t.id,
  );
  const ref = (t: Team) => ({ id: t.id, authorityId: t.authorityId, name: t.name });
  const teams: DirectoryDiff['teams'] = { added: [], removed: [], changed: [] };
  const addresses: AddressChange[] = [];
  for (const [id, team] of now) {
    const old = was.get(id);
    if (!old) {
      teams.added.push(ref(team));
      addresses.push(...addressChanges(id, [], team.channels));
      continue;
    }
    const changes = teamFieldChanges(old, team);
    if (changes.length > 0) teams.changed.push({ id, authorityId: team.authorityId, changes });
    addresses.push(...addressChanges(id, old.channels, team.channels));
  }
  for (const [id, team] of was) if (!now.has(id)) teams.removed.push(ref(team));
  return { teams, addresses };
}

function diffAuthorities(before: Directory, after: Directory): DirectoryDiff['authorities'] {
  const was = byKey(before.authorities, (a) => a.id);
  const now = byKey(after.authorities, (a) => a.id);
  const ref = (a: { id: string; name: string }) => ({ id: a.id, name: a.name });
  return {
    added: after.authorities.filter((a) => !was.has(a.id)).map(ref),
    removed: before.authorities.filter((a) => !now.has(a.id)).map(ref),
    renamed: after.authorities.flatMap((a) => {
      const old = was.get(a.id);
      return old && old.name !== a.name ? [{ id: a.id, before: old.name, after: a.name }] : [];
    }),
  };
}

function diffCoverage(before: Directory, after: Directory): DirectoryDiff['coverage'] {
  const was = byKey(before.coverage, (c) => c.prefix);
  const now = byKey(after.coverage, (c) => c.prefix);
  const coverage: DirectoryDiff['coverage'] = { added: [], removed: [], changed: [] };
  for (const [prefix, entry] of now) {
    const old = was.get(prefix);
    const target = describeCoverage(entry);
    if (!old) coverage.added.push({ prefix, after: target });
    else if (describeCoverage(old) !== target) {
      coverage.changed.push({ prefix, before: describeCoverage(old), after: target });
    }
  }
  for (const [prefix, entry] of was) {
    if (!now.has(prefix)) coverage.removed.push({ prefix, before: describeCoverage(entry) });
  }
  return coverage;
}

function diffBankHolidays(before: Directory, after: Directory): DirectoryDiff['bankHolidays'] {
  const key = (h: BankHoliday) => `${h.date} ${h.name}`;
  const was = new Set(before.bankHolidays.map(key));
  const now = new Set(after.bankHolidays.map(key));
  return {
    added: after.bankHolidays.filter((h) => !was.has(key(h))),
    removed: before.bankHolidays.filter((h) => !now.has(key(h))),
  };
}

/** Compares two directories by id and prefix, so the order of a file never shows as a change. */
export function diffDirectories(before: Directory, after: Directory): DirectoryDiff {
  return {
    ...(before.name !== after.name ? { name: { before: before.name, after: after.name } } : {}),
    authorities: diffAuthorities(before, after),
    ...diffTeams(before, after),
    coverage: diffCoverage(before, after),
    bankHolidays: diffBankHolidays(before, after),
  };
}

export function isEmptyDiff(diff: DirectoryDiff): boolean {
  const lists = [
    ...Object.values(diff.authorities),
    ...Object.values(diff.teams),
    diff.addresses,
    ...Object.values(diff.coverage),
    ...Object.values(diff.bankHolidays),
  ];
  return diff.name === undefined && lists.every((list) => list.length === 0);
}
