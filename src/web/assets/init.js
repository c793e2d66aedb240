// Runs in the browser, as a module.
// Starts the NHS design system's components (conditional reveals, error summary focus, the header's
// "More" menu, character counts). A file rather than an inline module: the Content-Security-Policy
// allows scripts from Relay's own origin only. Without JavaScript every page still works.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';

initAll();
