/* global document, window, navigator, localStorage, fetch, FormData, URLSearchParams, HTMLFormElement, setTimeout, clearTimeout, CustomEvent -- runs in the browser */
// The crew form and its check page, so that no referral is lost:
// - every change is held on this device at once, and saved to the server as a draft a moment later;
// - Continue and Send go by fetch: with no signal the answers wait on the device ("waiting for
//   signal — not yet sent") and go, with the same source reference (the idempotency key), as soon as
//   the signal returns, until Relay answers that it has them;
// - a page opened without signal (the service worker's kept copy) or after signing in again gets the
//   answers back from the device when they are newer than the server's draft.
// Without this script the form still works: Continue saves the draft on the server.
const STORE = 'relay.crew.draft';
const RETRY_MS = 5000;
const SAVE_AFTER_MS = 1500;

const form = document.querySelector('form[data-crew-form]');
if (form) start(form);

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/crew/sw.js').catch(() => undefined);
}

function readLocal() {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? 'null');
  } catch {
    return null;
  }
}

function start(form) {
  const kind = form.getAttribute('data-crew-form'); // "answers" or "send"
  const status = document.querySelector('[data-crew-status]');
  const reference = () => form.elements.namedItem('sourceReference').value;
  const pairs = () =>
    [...new FormData(form)].filter(([name, value]) => typeof value === 'string' && name !== '_csrf');
  const csrf = () => form.elements.namedItem('_csrf').value;
  let saveTimer;
  let retryTimer;
  let busy = false;

  const say = (text) => {
    if (!status) return;
    status.textContent = text;
    status.hidden = text === '';
  };

  const keepLocal = (pending) => {
    // The browser's own clock, to compare with the server's draft time it was given: Relay's clock
    // rules are for what it records, and nothing here is recorded.
    // eslint-disable-next-line no-restricted-properties
    const savedAt = Date.now();
    localStorage.setItem(STORE, JSON.stringify({ reference: reference(), savedAt, pairs: pairs(), pending }));
  };

  const post = (url) => {
    const body = new URLSearchParams([['_csrf', csrf()], ...pairs()]);
    return fetch(url, {
      method: 'POST',
      body,
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
  };

  const toSignIn = () => {
    const next = encodeURIComponent(`/crew/referrals/drafts/${reference()}`);
    window.location.assign(`/sign-in?next=${next}&reason=timeout`);
  };

  const saveDraft = async () => {
    if (kind !== 'answers') return;
    try {
      const response = await post(`/crew/referrals/drafts/${reference()}`);
      if (response.status === 401) return toSignIn();
      if (!response.ok) return;
      const saved = await response.json();
      // A reference that could not be used (already sent) was replaced: carry on under the new one.
      if (saved.draft && saved.draft !== reference())
        form.elements.namedItem('sourceReference').value = saved.draft;
      document.dispatchEvent(new CustomEvent('relay:session-touched'));
    } catch {
      // No signal: the answers are on this device, and the next change or Continue tries again.
    }
  };

  const changed = () => {
    keepLocal(false);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, SAVE_AFTER_MS);
  };

  /** Continue or Send by fetch; with no signal, wait for it and try again with the same answers. */
  const send = async () => {
    clearTimeout(retryTimer);
    let response;
    try {
      response = await post(form.action);
    } catch {
      say(
        'Waiting for signal — not yet sent. Your answers are kept on this device and will be sent when the signal returns.',
      );
      retryTimer = setTimeout(send, RETRY_MS);
      return;
    }
    window.removeEventListener('online', send);
    if (response.status === 401) return toSignIn();
    if (response.ok) {
      const answer = await response.json();
      if (kind === 'send') localStorage.removeItem(STORE);
      say(kind === 'send' ? 'Sent.' : '');
      return window.location.assign(answer.confirmation ?? answer.next);
    }
    // Anything else (errors to show beside the fields, already sent, a stale page) is the server's
    // page to explain: post the form the ordinary way and show what comes back.
    busy = false;
    HTMLFormElement.prototype.submit.call(form);
  };

  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  document.addEventListener('relay:session-ending', () => keepLocal(kind === 'send'));
  form.addEventListener('submit', (event) => {
    // "Change" buttons post the answers back to the form the ordinary way.
    if (event.submitter && event.submitter.hasAttribute('formaction')) return;
    event.preventDefault();
    if (busy) return; // pressed twice: the first press is already on its way
    busy = true;
    keepLocal(kind === 'send');
    say(
      navigator.onLine
        ? ''
        : 'Waiting for signal — not yet sent. Your answers are kept on this device and will be sent when the signal returns.',
    );
    window.addEventListener('online', send);
    void send();
  });

  if (kind === 'answers') restore(form, say);
}

/** Puts the device's answers back when they are newer than what the server sent. */
function restore(form, say) {
  const local = readLocal();
  if (!local || !Array.isArray(local.pairs)) return;
  const here = form.elements.namedItem('sourceReference').value;
  const serverSavedAt = Number(form.getAttribute('data-saved-at') ?? '0');
  const fresh = form.hasAttribute('data-fresh');
  const same = local.reference === here && local.savedAt > serverSavedAt;
  // A fresh form (opened without signal, or after a send that never arrived) takes over unsent answers.
  if (!same && !(fresh && local.reference !== here)) return;
  const names = new Set(local.pairs.map(([name]) => name));
  for (const element of form.elements) {
    if (!element.name || element.name === '_csrf' || !names.has(element.name)) continue;
    if (element.type === 'checkbox' || element.type === 'radio') element.checked = false;
  }
  for (const [name, value] of local.pairs) {
    const control = form.elements.namedItem(name);
    const all = control && 'length' in control && !control.tagName ? [...control] : [control];
    for (const element of all) {
      if (!element) continue;
      if (element.type === 'checkbox' || element.type === 'radio') {
        if (element.value === value) element.checked = true;
      } else {
        element.value = value;
      }
    }
  }
  say('Your answers were restored from this device. Check them, then continue.');
}
