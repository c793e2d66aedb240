import { canonicalJson } from '../../canonical-json.ts';
import type { DirectoryIssue } from '../../directory/directory.schema.ts';
import type { Channel, OpeningHours, Team, Weekday } from '../../directory/directory.types.ts';
import { WEEKDAYS } from '../../directory/directory.types.ts';
import { effectiveHours } from '../../directory/hours.ts';
import { formField } from './forms.ts';
import type { FieldErrors } from './forms.ts';

export interface AddressRow {
  role: string;
  address: string;
  owner: string;
  verifyBy: string;
}

export interface PhoneRow {
  label: string;
  number: string;
}

/** The team edit form's values, field for field: what the page shows and what a POST sends back. */
export interface TeamForm {
  emailDetail: string;
  addresses: AddressRow[];
  phones: PhoneRow[];
  always: boolean;
  days: Record<Weekday, { open: string; close: string }>;
  openOnBankHolidays: boolean;
}

/** Rows beyond the team's own: blank ones, so an address or phone number can be added. */
const SPARE_ROWS = 1;
const MAX_ROWS = 20;

/**
 * The simple form has one opening per day. Hours with split sessions (a lunch closure) would lose
 * a session if saved through it, so for those teams the form leaves hours as they are.
 */
export function hoursEditable(hours: OpeningHours): boolean {
  return Object.values(hours.weekly ?? {}).every((ranges) => ranges.length <= 1);
}

export function formFromTeam(team: Team): TeamForm {
  // As routing reads them, so an out-of-hours team without a schedule shows as open 24 hours.
  const hours = effectiveHours(team);
  const addresses = team.channels.flatMap((c) =>
    c.kind === 'email' ? [{ role: c.role, address: c.address, owner: c.owner, verifyBy: c.verifyBy }] : [],
  );
  const days = Object.fromEntries(
    WEEKDAYS.map((day) => {
      const [open, close] = hours.weekly?.[day]?.[0] ?? ['', ''];
      return [day, { open, close }];
    }),
  ) as TeamForm['days'];
  return {
    emailDetail: team.emailDetail,
    addresses: [
      ...addresses,
      ...blankRows(SPARE_ROWS, { role: 'secondary', address: '', owner: '', verifyBy: '' }),
    ],
    phones: [...team.phones.map((p) => ({ ...p })), ...blankRows(SPARE_ROWS, { label: '', number: '' })],
    always: hours.always === true,
    days,
    openOnBankHolidays: hours.openOnBankHolidays === true,
  };
}

function blankRows<T>(n: number, row: T): T[] {
  return Array.from({ length: n }, () => ({ ...row }));
}

function rowCount(body: unknown, prefix: string): number {
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  const indices = keys.flatMap((k) => {
    const m = new RegExp(`^${prefix}-(\\d+)-`).exec(k);
    return m ? [Number(m[1])] : [];
  });
  return Math.min(MAX_ROWS, indices.length > 0 ? Math.max(...indices) + 1 : 0);
}

export function formFromBody(body: unknown): TeamForm {
  const f = (name: string) => formField(body, name);
  const rows = <T>(prefix: string, read: (i: number) => T) =>
    Array.from({ length: rowCount(body, prefix) }, (_, i) => read(i));
  return {
    emailDetail: f('emailDetail'),
    addresses: rows('addresses', (i) => ({
      role: f(`addresses-${i}-role`),
      address: f(`addresses-${i}-address`),
      owner: f(`addresses-${i}-owner`),
      verifyBy: f(`addresses-${i}-verifyBy`),
    })),
    phones: rows('phones', (i) => ({ label: f(`phones-${i}-label`), number: f(`phones-${i}-number`) })),
    always: f('always') === 'yes',
    days: Object.fromEntries(
      WEEKDAYS.map((day) => [day, { open: f(`hours-${day}-open`), close: f(`hours-${day}-close`) }]),
    ) as TeamForm['days'],
    openOnBankHolidays: f('openOnBankHolidays') === 'yes',
  };
}

/** Which form row each of the changed team's channels and phones came from, to put errors beside it. */
export interface RowMap {
  channels: (number | undefined)[];
  phones: number[];
}

function hoursFromForm(form: TeamForm): OpeningHours {
  if (form.always) return { always: true };
  const weekly: NonNullable<OpeningHours['weekly']> = {};
  for (const day of WEEKDAYS) {
    const { open, close } = form.days[day];
    if (open || close) weekly[day] = [[open, close]];
  }
  return { weekly, ...(form.openOnBankHolidays ? { openOnBankHolidays: true } : {}) };
}

// Absent and false mean the same, and so do the stored and effective hours of an out-of-hours team;
// keeping the stored shape avoids a new version that changes nothing.
function sameHours(team: Team, hours: OpeningHours): boolean {
  const norm = (h: OpeningHours) => ({
    always: h.always === true,
    weekly: h.always
      ? {}
      : Object.fromEntries(Object.entries(h.weekly ?? {}).filter(([, r]) => r.length > 0)),
    bankHolidays: h.always !== true && h.openOnBankHolidays === true,
  });
  const a = effectiveHours({ ...team, hours });
  const b = effectiveHours(team);
  return canonicalJson(norm(a)) === canonicalJson(norm(b));
}

const isBlank = (row: object) => Object.values(row).every((v) => v === '');

/**
 * The team as the form describes it; webhooks and MESH mailboxes are kept as they are (the form
 * does not show a webhook's secret; both change by importing a directory file).
 */
export function applyForm(team: Team, form: TeamForm): { team: Team; rows: RowMap } {
  const addressRows = form.addresses
    .map((row, i) => ({ row, i }))
    .filter(({ row }) => !isBlank({ address: row.address, owner: row.owner, verifyBy: row.verifyBy }));
  const phoneRows = form.phones.map((row, i) => ({ row, i })).filter(({ row }) => !isBlank(row));
  const webhooks = team.channels.filter((c) => c.kind !== 'email');
  const emails = addressRows.map(
    ({ row }) => ({ kind: 'email', ...row, role: row.role as 'primary' | 'secondary' }) satisfies Channel,
  );
  const hours = hoursEditable(team.hours) ? hoursFromForm(form) : team.hours;
  return {
    team: {
      ...team,
      emailDetail: form.emailDetail as Team['emailDetail'],
      channels: [...emails, ...webhooks],
      phones: phoneRows.map(({ row }) => row),
      hours: sameHours(team, hours) ? team.hours : hours,
    },
    rows: {
      channels: [...addressRows.map(({ i }) => i), ...webhooks.map(() => undefined)],
      phones: phoneRows.map(({ i }) => i),
    },
  };
}

type Placed = [id: string, message: string] | undefined;

function channelError(rest: string, message: string, rows: RowMap): Placed {
  if (rest === 'channels') return ['addresses-0-role', 'A team needs exactly one primary address'];
  const m = /^channels\.(\d+)(?:\.(\w+))?$/.exec(rest);
  const row = m ? rows.channels[Number(m[1])] : undefined;
  if (!m || row === undefined) return undefined;
  const at = (field: string) => `addresses-${row}-${field}`;
  switch (m[2]) {
    case 'role':
      return message.includes('primary')
        ? [at('role'), 'A team needs exactly one primary address']
        : [at('role'), 'Choose primary or secondary'];
    case 'owner':
      return [at('owner'), 'Enter the name of the person who owns this address'];
    case 'verifyBy':
      return [at('verifyBy'), 'Enter the re-verification date as YYYY-MM-DD, for example 2027-03-31'];
    default:
      if (message.startsWith('repeats'))
        return [at('address'), 'This address is already listed for this team'];
      return [at('address'), 'Enter an email address in the correct format, like duty.team@example.org'];
  }
}

function phoneError(rest: string, rows: RowMap): Placed {
  if (rest === 'phones') return ['phones-0-number', 'A team needs at least one phone number'];
  const m = /^phones\.(\d+)\.(label|number)$/.exec(rest);
  const row = m ? rows.phones[Number(m[1])] : undefined;
  if (!m || row === undefined) return undefined;
  return m[2] === 'label'
    ? [`phones-${row}-label`, 'Enter a label for this number, like Duty desk']
    : [`phones-${row}-number`, 'Enter a phone number, like 01632 960100'];
}

function hoursError(rest: string): Placed {
  const m = /^hours\.weekly\.(\w+)\.0(?:\.([01]))?$/.exec(rest);
  if (!m) return undefined;
  if (m[2] === undefined) return [`hours-${m[1]}-open`, 'The opening time must be before the closing time'];
  const which = m[2] === '0' ? 'open' : 'close';
  return [
    `hours-${m[1]}-${which}`,
    'Enter the time as HH:MM, for example 08:30 (or leave both blank when closed)',
  ];
}

/** parseDirectoryFile's problems for this team, placed beside the form fields they came from. */
export function teamFormErrors(
  issues: readonly DirectoryIssue[],
  teamPath: string,
  rows: RowMap,
): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const rest = issue.path.startsWith(`${teamPath}.`) ? issue.path.slice(teamPath.length + 1) : undefined;
    const placed =
      rest === undefined
        ? undefined
        : rest === 'emailDetail'
          ? (['emailDetail', 'Choose how much of a referral the email carries'] as Placed)
          : (channelError(rest, issue.message, rows) ?? phoneError(rest, rows) ?? hoursError(rest));
    if (placed) errors[placed[0]] ??= placed[1];
    else errors[issue.path || 'form'] ??= `${issue.path}: ${issue.message}`;
  }
  return errors;
}
