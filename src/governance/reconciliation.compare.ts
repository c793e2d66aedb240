import type { MalformedRow, SourceRow } from './reconciliation.csv.ts';

/** A row of the file with its source system settled (from its column, the option, or inferred). */
export interface SystemRow extends SourceRow {
  system: string;
}

export interface RelayReferral {
  id: string;
  reference: string;
  sourceSystem: string;
  sourceReference: string;
  receivedAt: string;
  closedAt: string | null;
}

export interface RelayRoute {
  referralId: string;
  teamId: string;
  ackBy: string;
  acknowledgedAt: string | null;
}

interface Source {
  system: string;
  sourceReference: string;
}

interface InRelay extends Source {
  /** Relay's reference, SR-YYYY-NNNNNN. */
  reference: string;
  referralId: string;
}

export interface MissingFinding extends Source {
  line: number;
  createdAt: string;
  /** False when an earlier run already raised the escalation for this referral. */
  escalationOpened: boolean;
}

export interface NotAcknowledgedFinding extends InRelay {
  /** Null while the referral waits in triage, routed to no team yet. */
  team: string | null;
  teamName: string | null;
  ackBy: string | null;
  overdue: boolean;
}

export interface LateFinding extends InRelay {
  team: string;
  teamName: string;
  ackBy: string;
  acknowledgedAt: string;
  lateMinutes: number;
}

export interface DuplicateFinding extends Source {
  lines: number[];
}

export interface NotInFileFinding extends InRelay {
  receivedAt: string;
}

export const CATEGORIES = [
  'missing',
  'notAcknowledged',
  'acknowledgedLate',
  'duplicates',
  'notInFile',
  'malformed',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Findings {
  missing: MissingFinding[];
  notAcknowledged: NotAcknowledgedFinding[];
  acknowledgedLate: LateFinding[];
  duplicates: DuplicateFinding[];
  notInFile: NotInFileFinding[];
  malformed: MalformedRow[];
}

export interface CompareInput {
  rows: SystemRow[];
  /** Relay's referrals for the file's (system, reference) pairs. */
  found: RelayReferral[];
  /** Relay's referrals received in the period, for the file's systems. */
  inPeriod: RelayReferral[];
  routes: RelayRoute[];
  now: Date;
  teamName(id: string): string;
}

export const sourceKey = (system: string, reference: string): string => `${system}\u0000${reference}`;

/** The first row of each (system, reference), and every reference the file lists more than once. */
export function dedupeRows(rows: SystemRow[]): { unique: SystemRow[]; duplicates: DuplicateFinding[] } {
  const byKey = new Map<string, SystemRow[]>();
  for (const row of rows) {
    const key = sourceKey(row.system, row.sourceReference);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const groups = [...byKey.values()];
  return {
    unique: groups.flatMap((group) => group.slice(0, 1)),
    duplicates: groups
      .filter((group) => group.length > 1)
      .map((group) => ({
        system: group[0]?.system ?? '',
        sourceReference: group[0]?.sourceReference ?? '',
        lines: group.map((r) => r.line),
      })),
  };
}

/** Sorts the file against Relay. Pure: the caller reads the rows and acts on what is missing. */
export function compare(
  input: CompareInput,
): Omit<Findings, 'missing' | 'malformed'> & { missing: SystemRow[] } {
  const { unique, duplicates } = dedupeRows(input.rows);
  const found = new Map(input.found.map((r) => [sourceKey(r.sourceSystem, r.sourceReference), r]));
  const routes = groupRoutes(input.routes);
  const missing: SystemRow[] = [];
  const notAcknowledged: NotAcknowledgedFinding[] = [];
  const acknowledgedLate: LateFinding[] = [];
  for (const row of unique) {
    const referral = found.get(sourceKey(row.system, row.sourceReference));
    if (!referral) {
      missing.push(row);
      continue;
    }
    const own = routes.get(referral.id) ?? [];
    notAcknowledged.push(...unacknowledged(referral, own, input));
    acknowledgedLate.push(...late(referral, own, input));
  }
  const inFile = new Set(unique.map((r) => sourceKey(r.system, r.sourceReference)));
  const notInFile = input.inPeriod
    .filter((r) => !inFile.has(sourceKey(r.sourceSystem, r.sourceReference)))
    .map((r) => ({ ...inRelay(r), receivedAt: r.receivedAt }));
  return { missing, notAcknowledged, acknowledgedLate, duplicates, notInFile };
}

function groupRoutes(routes: RelayRoute[]): Map<string, RelayRoute[]> {
  const byReferral = new Map<string, RelayRoute[]>();
  for (const route of routes)
    byReferral.set(route.referralId, [...(byReferral.get(route.referralId) ?? []), route]);
  return byReferral;
}

function inRelay(r: RelayReferral): InRelay {
  return {
    system: r.sourceSystem,
    sourceReference: r.sourceReference,
    reference: r.reference,
    referralId: r.id,
  };
}

/**
 * Each team still to acknowledge. A referral with no route is waiting in triage, so no team has it
 * yet; once closed from triage nobody is expected to acknowledge it.
 */
function unacknowledged(referral: RelayReferral, routes: RelayRoute[], input: CompareInput) {
  if (routes.length === 0) {
    if (referral.closedAt) return [];
    return [{ ...inRelay(referral), team: null, teamName: null, ackBy: null, overdue: false }];
  }
  const now = input.now.toISOString();
  return routes
    .filter((route) => route.acknowledgedAt === null)
    .map((route) => ({
      ...inRelay(referral),
      team: route.teamId,
      teamName: input.teamName(route.teamId),
      ackBy: route.ackBy,
      overdue: route.ackBy <= now,
    }));
}

function late(referral: RelayReferral, routes: RelayRoute[], input: CompareInput): LateFinding[] {
  return routes.flatMap((route) => {
    const at = route.acknowledgedAt;
    if (at === null || at <= route.ackBy) return [];
    const lateMinutes = Math.ceil((Date.parse(at) - Date.parse(route.ackBy)) / 60_000);
    return [
      {
        ...inRelay(referral),
        team: route.teamId,
        teamName: input.teamName(route.teamId),
        ackBy: route.ackBy,
        acknowledgedAt: at,
        lateMinutes,
      },
    ];
  });
}
