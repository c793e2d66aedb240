import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { formatLondon } from '../time.ts';
import {
  CAPACITY_LABELS,
  categoryLabel,
  OUTCOME_LABELS,
  REFERRAL_TYPE_LABELS,
  URGENCY_LABELS,
  vulnerabilityLabel,
} from './crew/referral-form.fields.ts';

/** The words for each kind of code a page shows: `{{ code | label("category") }}`. */
const WORDS: Record<string, (code: string) => string> = {
  category: categoryLabel,
  vulnerability: vulnerabilityLabel,
  outcome: (code) => OUTCOME_LABELS[code] ?? code,
  capacity: (code) => CAPACITY_LABELS[code] ?? code,
  referralType: (code) => REFERRAL_TYPE_LABELS[code] ?? code,
  urgency: (code) => URGENCY_LABELS[code] ?? code,
};

/** A code in words; an unknown kind or code is shown as itself (autoescaped like any text). */
function label(code: unknown, kind: string): string {
  const words = WORDS[kind];
  return words && typeof code === 'string' ? words(code) : String(code ?? '');
}

/** A date without a time ("1939-04-12") as people write it: 12 April 1939; anything else as itself. */
function calendarDay(value: unknown): string {
  const day =
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  if (!day || Number.isNaN(day.getTime())) return String(value ?? '');
  return day.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

const require = createRequire(import.meta.url);
/** nhsuk-frontend's dist folder: its templates are imported as "nhsuk/components/…/macro.njk". */
export const NHSUK_DIST = join(dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');
const VIEWS = fileURLToPath(new URL('./views', import.meta.url));

/** One Nunjucks environment for every page: our views first, then the NHS design system's macros. */
export function createViews(): nunjucks.Environment {
  const env = new nunjucks.Environment(
    new nunjucks.FileSystemLoader([VIEWS, NHSUK_DIST], { noCache: false }),
    {
      autoescape: true,
      throwOnUndefined: false,
    },
  );
  env.addFilter('londonTime', (iso: string | null | undefined) => (iso ? formatLondon(iso) : ''));
  env.addFilter('label', label);
  env.addFilter('calendarDay', calendarDay);
  env.addFilter('labels', (codes: unknown, kind: string) =>
    Array.isArray(codes) ? codes.map((c) => label(c, kind)) : [],
  );
  return env;
}
