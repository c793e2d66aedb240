import { formatLondon } from '../../time.ts';
import {
  CASE_STATUSES,
  CONDITION_LABELS,
  periodDays,
  REVIEW_CONDITIONS,
  STATUS_LABELS,
  type CaseStatus,
  type Progress,
  type Review,
} from '../../governance/review.model.ts';
import type { CaseEvent, CaseListing, Person } from '../../governance/review.queries.ts';

const STATUS_TAG_CLASSES: Record<CaseStatus, string> = {
  'not-started': 'nhsuk-tag--grey',
  'in-review': 'nhsuk-tag--blue',
  'no-harm-found': 'nhsuk-tag--green',
  'harm-found': 'nhsuk-tag--red',
  'action-taken': 'nhsuk-tag--purple',
};

/** NHS palette colours for the progress bar, matching each status's tag. */
const STATUS_COLOURS: Record<CaseStatus, string> = {
  'not-started': '#aeb7bd',
  'in-review': '#005eb8',
  'no-harm-found': '#007f3b',
  'harm-found': '#d5281b',
  'action-taken': '#330072',
};

/** The progress bar's segments, finished findings first, as percentages of the bar's width. */
function progressSegments(progress: Progress) {
  const order: CaseStatus[] = ['harm-found', 'action-taken', 'no-harm-found', 'in-review', 'not-started'];
  let x = 0;
  return order
    .filter((s) => progress.byStatus[s] > 0)
    .map((s) => {
      const width = (progress.byStatus[s] * 100) / Math.max(1, progress.total);
      const segment = {
        status: s,
        x: Math.round(x * 100) / 100,
        width: Math.round(width * 100) / 100,
        colour: STATUS_COLOURS[s],
      };
      x += width;
      return segment;
    });
}

const DAY = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});

/** "1 Nov 2026 to 30 Nov 2026" for whole London days, else the exact times. */
export function periodText(review: Pick<Review, 'from' | 'to'>): string {
  const days = periodDays(review.from, review.to);
  if (!days) return `${formatLondon(review.from)} up to ${formatLondon(review.to)}`;
  const day = (date: string) => DAY.format(new Date(`${date}T00:00:00Z`));
  return days.first === days.last ? day(days.first) : `${day(days.first)} to ${day(days.last)}`;
}

export const conditionItems = (checked: readonly string[]) =>
  REVIEW_CONDITIONS.map((c) => ({ value: c, text: CONDITION_LABELS[c], checked: checked.includes(c) }));

export const statusTag = (status: CaseStatus) => ({
  text: STATUS_LABELS[status],
  classes: STATUS_TAG_CLASSES[status],
});

export function reviewView(review: Review, progress: Progress) {
  return {
    ...review,
    period: periodText(review),
    conditionLabels: review.conditions.map((c) => CONDITION_LABELS[c]),
    progress,
    statusCounts: CASE_STATUSES.map((s) => ({
      status: s,
      text: STATUS_LABELS[s],
      count: progress.byStatus[s],
      colour: STATUS_COLOURS[s],
    })),
    segments: progressSegments(progress),
  };
}

export function caseView(c: CaseListing) {
  return {
    ...c,
    conditionLabels: c.conditions.map((k) => CONDITION_LABELS[k]),
    statusTag: statusTag(c.status),
    inRelay: c.referralId !== null,
  };
}

export const reviewerItems = (people: readonly Person[], selected: string | null, blank: string) => [
  { value: '', text: blank },
  ...people.map((p) => ({ value: p.id, text: p.name, selected: p.id === selected })),
];

export const statusItems = (selected: string) =>
  CASE_STATUSES.map((s) => ({ value: s, text: STATUS_LABELS[s], checked: s === selected }));

const statusText = (code: unknown) =>
  typeof code === 'string' && code in STATUS_LABELS ? STATUS_LABELS[code as CaseStatus] : String(code);

/** One audited change to a case as a sentence; people are named by today's account names. */
export function historyLine(event: CaseEvent, names: ReadonlyMap<string, string>) {
  const person = (id: unknown) => (typeof id === 'string' ? (names.get(id) ?? id) : '');
  const d = event.detail;
  const what: string[] = [];
  if ('statusTo' in d)
    what.push(`Status changed from ${statusText(d.statusFrom)} to ${statusText(d.statusTo)}`);
  if ('reviewerTo' in d) {
    if (!d.reviewerTo) what.push(`Reviewer ${person(d.reviewerFrom)} taken off`);
    else if (!d.reviewerFrom) what.push(`Assigned to ${person(d.reviewerTo)}`);
    else what.push(`Reviewer changed from ${person(d.reviewerFrom)} to ${person(d.reviewerTo)}`);
  }
  if (d.noteAdded) what.push('Note added');
  const actor = event.actor.startsWith('user:') ? person(event.actor.slice(5)) : event.actor;
  return { at: event.at, who: actor, what: what.join('. ') };
}
