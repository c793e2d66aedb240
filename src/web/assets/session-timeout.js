/* global document, window, fetch, setTimeout, clearTimeout, CustomEvent -- runs in the browser */
// Warns two minutes before a session ends for lack of use, with a button to stay signed in. When it
// ends, the page goes to sign-in, which explains why and returns to where the person was (for the
// crew form, its saved draft). Pages that save as the person works dispatch
// "relay:session-touched" after each save: the server counted that as use.
const WARN_BEFORE_MS = 2 * 60 * 1000;
const meta = document.querySelector('meta[name="relay-session-idle-seconds"]');

if (meta) {
  const idleMs = Number(meta.getAttribute('content')) * 1000;
  let warnTimer;
  let endTimer;
  let banner;

  const resumeUrl = () => {
    const marked = document.querySelector('[data-resume-url]');
    return marked ? marked.getAttribute('data-resume-url') : window.location.pathname;
  };

  const hideWarning = () => {
    if (banner) banner.remove();
    banner = undefined;
  };

  const arm = () => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    hideWarning();
    warnTimer = setTimeout(showWarning, Math.max(0, idleMs - WARN_BEFORE_MS));
    endTimer = setTimeout(end, idleMs);
  };

  const end = () => {
    document.dispatchEvent(new CustomEvent('relay:session-ending'));
    const next = encodeURIComponent(resumeUrl());
    window.location.assign(`/sign-in?next=${next}&reason=timeout`);
  };

  const stay = async () => {
    // Any request touches the session; the start page answers with a redirect and nothing else.
    await fetch('/', { credentials: 'same-origin', redirect: 'manual' }).catch(() => undefined);
    arm();
  };

  function showWarning() {
    hideWarning();
    banner = document.createElement('div');
    banner.className = 'nhsuk-notification-banner';
    banner.setAttribute('role', 'alert');
    banner.setAttribute('aria-labelledby', 'session-timeout-title');
    banner.id = 'session-timeout-warning';
    banner.innerHTML =
      '<div class="nhsuk-notification-banner__header">' +
      '<h2 class="nhsuk-notification-banner__title" id="session-timeout-title">Important</h2></div>' +
      '<div class="nhsuk-notification-banner__content">' +
      '<p class="nhsuk-notification-banner__heading">You will be signed out in 2 minutes</p>' +
      '<p class="nhsuk-body">You have not used Relay for a while. Anything you have typed is saved; ' +
      'if you are signed out, sign in again to carry on where you were.</p>' +
      '<button type="button" class="nhsuk-button nhsuk-u-margin-bottom-0">Stay signed in</button></div>';
    banner.querySelector('button').addEventListener('click', stay);
    const main = document.querySelector('main') ?? document.body;
    main.prepend(banner);
  }

  document.addEventListener('relay:session-touched', arm);
  arm();
}
