/* global document, history, MutationObserver, caches, window -- runs in the browser, as a module */
// Starts the NHS design system's components (conditional reveals, error summary focus, the header's
// "More" menu, character counts). A file rather than an inline module: the Content-Security-Policy
// allows scripts from Relay's own origin only. Without JavaScript every page still works.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';

initAll();

// nhsuk-frontend marks a radio that reveals a question with aria-expanded, which ARIA does not allow
// on a radio (axe: aria-allowed-attr); aria-controls says the same thing and stays. It sets it at
// start, on page show and on every change, so it is taken off whenever it appears.
const radioExpanded = 'input[type="radio"][aria-expanded]';
const drop = () => {
  for (const radio of document.querySelectorAll(radioExpanded)) radio.removeAttribute('aria-expanded');
};
new MutationObserver(drop).observe(document.body, {
  subtree: true,
  attributes: true,
  attributeFilter: ['aria-expanded'],
});
drop();

// A form shown again after its POST (a 422 with the errors beside the fields) is a POST in the
// history; pages are never stored (no-store), so Back to it after the next, successful submit was
// the browser's ERR_CACHE_MISS. The page names its GET address, and the history entry becomes that
// address: Back then loads the page afresh.
const pageUrl = document.querySelector('meta[name="relay-page-url"]')?.getAttribute('content');
if (pageUrl) history.replaceState(null, '', pageUrl);

// Nobody is signed in on this page (sign-in, where signing out or a timeout lands, an acknowledge
// link): the crew's form page that the service worker kept for a lost signal was the last crew
// member's, with their name, so it goes. The worker cannot do this itself: /sign-out is outside the
// /crew/ pages it is given. (The answers held on the device stay: they go when that crew member
// signs in again.)
if (document.querySelector('meta[name="relay-signed-out"]') && 'caches' in window) {
  caches
    .keys()
    .then((names) =>
      Promise.all(names.filter((n) => n.startsWith('relay-crew-')).map((n) => caches.delete(n))),
    )
    .catch(() => undefined);
}
