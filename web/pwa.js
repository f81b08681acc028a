// Hark as an app on a phone: installable (manifest + service worker), works
// offline far enough to say "no connection", keeps the screen on while
// connected (Screen Wake Lock), lets a headset button talk (Media Session),
// and turns rings, texts and pages into system notifications with vibration
// while the page is in the background (Notification API).
//
// It only listens to the events app.js dispatches on window ("hark:welcome",
// "hark:ring", …) and uses window.harkApp to talk, so it can be left out
// without breaking the intercom.
'use strict';
(() => {
const $ = (id) => document.getElementById(id);
const P = {
  sw: 'none',          // none | registered | unsupported | failed: …
  online: false,       // logged in and connected
  net: 'unknown',      // unknown | ok | offline (the server cannot be reached)
  wake: 'off',         // off | on | unsupported | refused: …
  wakeLock: null,
  media: 'off',        // off | on | unsupported
  mediaHandlers: {},   // action -> handler, as given to the Media Session
  alerts: 'unknown',   // the Notification permission, or 'unsupported'
  notified: [],        // the notifications shown (tests, and the count in the menu)
  vibrated: 0,
  installEvent: null,
  forceHidden: false,  // tests: behave as if the page were in the background
};
const ios = /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
const standalone = () => (window.matchMedia && matchMedia('(display-mode: standalone)').matches) || navigator.standalone === true;
const hidden = () => P.forceHidden || document.visibilityState === 'hidden';
function stored(k) { try { return localStorage.getItem(k) || ''; } catch (e) { return ''; } }
function store(k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

// ---------- installable: service worker, install button ----------
function registerSW() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) { P.sw = 'unsupported'; return; }
  navigator.serviceWorker.register('sw.js').then(() => { P.sw = 'registered'; })
    .catch((e) => { P.sw = 'failed: ' + (e.message || e); });
}
window.addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault(); // shown from our menu instead, when the person wants it
  P.installEvent = e;
  renderMenu();
});
window.addEventListener('appinstalled', () => { P.installEvent = null; renderMenu(); });
async function install() {
  const e = P.installEvent;
  if (!e) return;
  P.installEvent = null;
  e.prompt();
  try { await e.userChoice; } catch (_) { /* dismissed */ }
  renderMenu();
}

// ---------- no connection ----------
// The shell may come from the service worker's cache: ask the server itself.
let netTimer = null;
async function checkNet() {
  clearTimeout(netTimer);
  let ok = navigator.onLine !== false;
  if (ok) {
    try {
      const r = await fetch('healthz', {cache: 'no-store'});
      ok = r.ok;
    } catch (e) { ok = false; }
  }
  P.net = ok ? 'ok' : 'offline';
  const box = $('netState');
  if (box) {
    box.classList.toggle('hidden', ok);
    if (!ok) {
      box.textContent = navigator.onLine === false
        ? 'No connection: this device is offline. Turn on Wi-Fi or mobile data; Hark tries again by itself.'
        : 'No connection to the intercom at ' + location.host + '. Are you on the site\'s network (Wi-Fi)? Hark tries again by itself.';
    }
  }
  const join = $('loginBtn');
  if (join) join.disabled = !ok;
  if (!ok) netTimer = setTimeout(checkNet, 5000);
}
window.addEventListener('online', checkNet);
window.addEventListener('offline', checkNet);

// ---------- awake: Screen Wake Lock while connected ----------
async function wakeOn() {
  if (!P.online || P.wakeLock || document.visibilityState !== 'visible') return;
  if (!('wakeLock' in navigator)) { P.wake = 'unsupported'; renderMenu(); return; }
  try {
    const lock = await navigator.wakeLock.request('screen');
    if (!P.online) { lock.release(); return; }
    P.wakeLock = lock;
    P.wake = 'on';
    // The system lets go of it when the page is hidden; it is asked for
    // again when the page is back (visibilitychange).
    lock.addEventListener('release', () => { if (P.wakeLock === lock) { P.wakeLock = null; P.wake = 'off'; renderMenu(); } });
  } catch (e) {
    P.wake = 'refused: ' + (e.message || e.name || e);
  }
  renderMenu();
}
function wakeOff() {
  const lock = P.wakeLock;
  P.wakeLock = null;
  if (lock) lock.release().catch(() => {});
  if (P.wake === 'on') P.wake = 'off';
  renderMenu();
}
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') wakeOn(); });

// ---------- headset button: Media Session ----------
// A headset's play/pause button (or a car's, or the lock screen's) toggles
// talking: press once to talk, once more to stop. Platforms only route the
// button to a page that is playing audio; Hark's audio output counts on
// most, iOS Safari does not give the button to web pages.
function mediaOn(name) {
  const ms = navigator.mediaSession;
  if (!ms) { P.media = 'unsupported'; return; }
  const toggle = (source) => () => {
    const app = window.harkApp;
    if (!app) return;
    app.talk(!app.pressed(), source);
  };
  const handlers = {play: toggle('headset'), pause: toggle('headset'), togglemicrophone: toggle('headset'),
    stop: () => { if (window.harkApp && window.harkApp.pressed()) window.harkApp.talk(false, 'headset'); }};
  for (const [action, fn] of Object.entries(handlers)) {
    try { ms.setActionHandler(action, fn); P.mediaHandlers[action] = fn; } catch (e) { /* this browser has no such action */ }
  }
  try {
    ms.metadata = new MediaMetadata({title: 'Hark intercom', artist: name || '', album: 'Press to talk, press again to stop',
      artwork: [{src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png'}, {src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png'}]});
    ms.playbackState = 'playing';
  } catch (e) { /* metadata is optional */ }
  P.media = 'on';
}
function mediaOff() {
  const ms = navigator.mediaSession;
  if (!ms) return;
  for (const action of Object.keys(P.mediaHandlers)) { try { ms.setActionHandler(action, null); } catch (e) { /* ignore */ } }
  P.mediaHandlers = {};
  try { ms.playbackState = 'none'; } catch (e) { /* ignore */ }
  P.media = 'off';
}

// ---------- alerts: system notifications and vibration ----------
function alertsState() {
  P.alerts = window.Notification ? Notification.permission : 'unsupported';
  return P.alerts;
}
// askAlerts shows the "turn on alerts" card after login: the browser's
// question only comes when the person taps its button (a user gesture),
// never by itself on page load.
function askAlerts() {
  const card = $('alertsAsk');
  if (!card) return;
  const st = alertsState();
  let text = '';
  if (st === 'default' && stored('hark.alerts') !== 'no') {
    text = 'Get a notification when someone rings, pages or texts you while Hark is in the background?';
    $('alertsOn').classList.remove('hidden');
  } else if (st === 'unsupported' && ios && !standalone() && stored('hark.alerts') !== 'no') {
    text = 'To get rings and messages while Hark is in the background on an iPhone: tap Share, then "Add to Home Screen", and open Hark from there.';
    $('alertsOn').classList.add('hidden');
  }
  $('alertsText').textContent = text;
  card.classList.toggle('hidden', !text);
}
async function alertsOn() {
  $('alertsAsk').classList.add('hidden');
  try { await Notification.requestPermission(); } catch (e) { /* old callback form: state read below */ }
  alertsState();
  renderMenu();
}
function alertsNotNow() { store('hark.alerts', 'no'); $('alertsAsk').classList.add('hidden'); }

const VIBRATE = {ring: [300, 150, 300, 150, 300], page: [600, 200, 600], text: [120]};
async function notifyUser(kind, title, body) {
  // Vibrate for rings and pages even in the foreground: a phone in a pocket.
  if ((hidden() || kind !== 'text') && navigator.vibrate) { try { if (navigator.vibrate(VIBRATE[kind])) P.vibrated++; } catch (e) { /* no vibrator */ } }
  if (!hidden() || alertsState() !== 'granted') return;
  const opts = {body, tag: 'hark-' + kind, renotify: true, icon: 'icons/icon-192.png', badge: 'icons/icon-192.png',
    vibrate: VIBRATE[kind], requireInteraction: kind !== 'text', data: {kind}};
  try {
    // Android shows notifications only through the service worker.
    const reg = P.sw === 'registered' && navigator.serviceWorker ? await navigator.serviceWorker.getRegistration() : null;
    if (reg && reg.showNotification) await reg.showNotification(title, opts);
    else { const n = new Notification(title, opts); n.onclick = () => { window.focus(); n.close(); }; }
    P.notified.push({kind, title, body});
    if (P.notified.length > 50) P.notified.shift();
  } catch (e) {
    P.notifyError = String(e);
  }
}

// ---------- the menu's lines ----------
function renderMenu() {
  const ib = $('installBtn'), ih = $('installHint'), ws = $('wakeState');
  if (ib) ib.classList.toggle('hidden', !P.installEvent);
  if (ih) {
    ih.classList.toggle('hidden', !(ios && !standalone()));
    ih.textContent = 'Install: tap Share, then "Add to Home Screen".';
  }
  if (ws) {
    ws.textContent = P.wake === 'on' ? 'The screen stays on while you are connected.'
      : P.wake === 'unsupported' ? 'This browser cannot keep the screen on: set the screen timeout in the phone\'s settings.'
        : P.wake.startsWith('refused') ? 'The browser did not let Hark keep the screen on (battery saver?).' : '';
  }
  const an = $('alertsState');
  if (an) {
    const st = alertsState();
    an.textContent = st === 'granted' ? 'Alerts are on: rings, pages and texts show as notifications in the background.'
      : st === 'denied' ? 'Alerts are blocked: allow notifications for this site in the browser\'s settings.' : '';
  }
}

// ---------- app.js's events ----------
window.addEventListener('hark:welcome', (e) => { P.online = true; wakeOn(); mediaOn(e.detail && e.detail.name); askAlerts(); renderMenu(); });
window.addEventListener('hark:conn', (e) => { if (e.detail.ok && P.online) wakeOn(); });
window.addEventListener('hark:logout', () => { P.online = false; wakeOff(); mediaOff(); $('alertsAsk').classList.add('hidden'); });
window.addEventListener('hark:ring', (e) => { if (!e.detail.mine) notifyUser('ring', e.detail.from + ' is ringing everyone', e.detail.text || 'Tap to open Hark.'); });
window.addEventListener('hark:page', (e) => { if (e.detail.on && !e.detail.mine) notifyUser('page', e.detail.from + ' is paging everyone', 'Tap to open Hark and listen.'); });
window.addEventListener('hark:text', (e) => { if (!e.detail.mine) notifyUser('text', e.detail.from + (e.detail.to ? ' (only to you)' : ''), e.detail.text); });

function init() {
  registerSW();
  checkNet();
  if ($('alertsOn')) $('alertsOn').addEventListener('click', alertsOn);
  if ($('alertsLater')) $('alertsLater').addEventListener('click', alertsNotNow);
  if ($('installBtn')) $('installBtn').addEventListener('click', install);
  renderMenu();
}

// ---------- test hooks ----------
window.harkPWA = {
  state: () => ({sw: P.sw, controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller), net: P.net,
    online: P.online, wake: P.wake, media: P.media, mediaActions: Object.keys(P.mediaHandlers), alerts: alertsState(),
    notified: P.notified, vibrated: P.vibrated, notifyError: P.notifyError || '', hidden: hidden()}),
  // mediaAction runs the handler Hark gave the Media Session for action, as
  // the browser does when a headset button is pressed.
  mediaAction: (action) => { const fn = P.mediaHandlers[action]; if (!fn) return false; fn({action}); return true; },
  setHidden: (h) => { P.forceHidden = !!h; },
  checkNet,
};

init();
})();
