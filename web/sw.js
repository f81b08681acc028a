// Hark's service worker: keeps the page's shell (HTML, script, styles,
// worklets, icons) so that the installed app opens without a network and
// says "no connection" instead of the browser's error page, and opens the
// app when someone taps one of its notifications.
//
// Every request goes to the network first (so a new gateway's page is used
// as soon as it is reachable); the cache answers only when the network does
// not. The websocket (/ws) and /healthz are never cached.
'use strict';
const CACHE = 'hark-shell-v5'; // v2: history.js; v3: intercom.js; v4: listen.js; v5: wt.js
const SHELL = ['./', 'index.html', 'history.js', 'intercom.js', 'listen.js', 'wt.js', 'app.js', 'pwa.js', 'style.css', 'capture-worklet.js', 'play-worklet.js',
  'record-worklet.js', 'manifest.webmanifest', 'icons/icon-192.png', 'icons/icon-512.png', 'icons/apple-touch-icon.png'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('hark-shell-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function cacheable(url) {
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  return path === '' || SHELL.includes(path);
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== location.origin || !cacheable(url)) return; // the network's answer, as is
  e.respondWith(fetch(req).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(req, copy)).catch(() => {}); }
    return res;
  }).catch(() => caches.match(req, {ignoreSearch: true})
    .then((hit) => hit || (req.mode === 'navigate' ? caches.match('./') : undefined))
    .then((hit) => hit || new Response('Hark cannot reach its server and has no saved copy of this file.',
      {status: 503, headers: {'Content-Type': 'text/plain; charset=utf-8'}}))));
});

// A tap on a ring, text or page notification brings the app to the front.
self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(self.clients.matchAll({type: 'window', includeUncontrolled: true}).then((list) => {
    for (const c of list) if ('focus' in c) return c.focus();
    return self.clients.openWindow ? self.clients.openWindow('./') : undefined;
  }));
});
