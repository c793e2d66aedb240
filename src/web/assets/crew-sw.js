/* global self, caches, fetch -- a service worker */
// Keeps the crew's referral form for a crew without signal. Served as /crew/sw.js, so it controls
// the crew's pages only. Pages come from the network whenever it answers (they are never stale); with
// no signal, any crew page falls back to the last form page fetched, and the form's script restores
// the answers held on the device. Only the blank form and static files are kept, never a draft or a
// referral. Signing out cannot be seen from here (/sign-out is outside this worker's pages): the
// first page shown to nobody signed in empties the cache (init.js).
const CACHE = 'relay-crew-v2';
const FORM = '/crew/referrals/new';
const ASSETS = [
  '/assets/nhsuk-frontend.css',
  '/assets/nhsuk/nhsuk-frontend.min.js',
  '/assets/relay/js-enabled.js',
  '/assets/relay/init.js',
  '/assets/relay/session-timeout.js',
  '/assets/relay/crew-form.js',
];

/** The blank form, if the network gives it (a redirect means signed out: nothing is kept). */
async function keepForm(cache) {
  const response = await fetch(FORM, { credentials: 'same-origin' });
  if (response.ok && !response.redirected) await cache.put(FORM, response);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all([cache.addAll(ASSETS), keepForm(cache).catch(() => undefined)])),
  );
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function formPage(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const url = new URL(request.url);
    if (url.pathname === FORM && response.ok && !response.redirected) await cache.put(FORM, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(FORM);
    if (kept) return kept;
    throw error;
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (event.request.method !== 'GET') return;
  if (event.request.mode === 'navigate' && url.pathname.startsWith('/crew/')) {
    event.respondWith(formPage(event.request));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(asset(event.request));
  }
});
