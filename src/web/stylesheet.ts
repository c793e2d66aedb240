import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NHSUK_DIST } from './views.ts';

/** Where the pages load the design system's styles from (layout.njk, the crew's service worker). */
export const STYLESHEET_PATH = '/assets/nhsuk-frontend.css';

/**
 * nhsuk-frontend's CSS without its @font-face rules. They fetch the NHS font (Frutiger) from
 * assets.nhs.uk, which the CSP's font-src 'self' refuses (a console error on every page, and a
 * request to a third party from a page of personal data), and the package ships no font files to
 * serve here instead. Without the rules, the font stack's own fallback (Arial, then the system sans
 * serif) is used at once, with no request at all.
 */
export function withoutRemoteFonts(css: string): string {
  return css.replace(/@font-face\s*\{[^}]*\}/g, '');
}

/** Served from memory: read and stripped once at start, cached by browsers for a day like the other assets. */
export function registerStylesheet(app: FastifyInstance): void {
  const css = withoutRemoteFonts(readFileSync(join(NHSUK_DIST, 'nhsuk', 'nhsuk-frontend.min.css'), 'utf8'));
  app.get(STYLESHEET_PATH, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(css),
  );
}
