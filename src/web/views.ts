import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { formatLondon } from '../time.ts';

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
  return env;
}
