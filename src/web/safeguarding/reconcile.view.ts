import { CATEGORIES, type Category } from '../../governance/reconciliation.compare.ts';
import { CATEGORY_TITLES, formatMinutes } from '../../governance/reconciliation.output.ts';
import type { ReconciliationReport } from '../../governance/reconciliation.ts';

/** A page of thousands of rows helps nobody; the downloads always hold every finding. */
export const SHOWN_PER_CATEGORY = 200;

/** What each category asks of the reader, shown under its table. */
const ADVICE: Record<Category, string> = {
  missing:
    'The source system says these were raised, but Relay never received them. Each has an escalation: find the referral in the source system and send it again, or phone it through.',
  notAcknowledged:
    'No one at the team has acknowledged these yet. Phone the team for any whose deadline has passed.',
  acknowledgedLate: 'Acknowledged, but after the deadline. Raise the pattern with the team if it recurs.',
  duplicates: 'The file lists these references more than once. Relay compared each once.',
  notInFile:
    'Relay received these from the source system in the period, but the file does not list them. The export may be incomplete.',
  malformed: 'These rows were skipped. Correct them in the export and reconcile it again.',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function reportView(report: ReconciliationReport) {
  const sections = CATEGORIES.map((key) => {
    const all = report[key] as unknown[];
    return {
      key,
      title: CATEGORY_TITLES[key],
      advice: ADVICE[key],
      count: all.length,
      truncated: all.length > SHOWN_PER_CATEGORY,
    };
  });
  const shown = <T>(items: T[]) => items.slice(0, SHOWN_PER_CATEGORY);
  return {
    ...report,
    sections,
    shownLimit: SHOWN_PER_CATEGORY,
    rowsText: `${plural(report.rows, 'row')}: ${plural(report.references, 'reference')}, ${report.found} found in Relay`,
    missing: shown(report.missing),
    notAcknowledged: shown(report.notAcknowledged),
    acknowledgedLate: shown(report.acknowledgedLate).map((f) => ({
      ...f,
      late: formatMinutes(f.lateMinutes),
    })),
    duplicates: shown(report.duplicates),
    notInFile: shown(report.notInFile),
    malformed: shown(report.malformed).map((f) => ({ ...f, reason: capitalise(f.reason) })),
    csvHref: `/safeguarding/reconcile/${encodeURIComponent(report.id)}/report.csv`,
    jsonHref: `/safeguarding/reconcile/${encodeURIComponent(report.id)}/report.json`,
  };
}
