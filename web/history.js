// Hark web client: history (what the intercom kept). Kept apart from app.js:
// app.js calls HarkHistory.init(api) once and HarkHistory.onMessage(m) for
// every message from the gateway; everything about the timeline, the
// "while you were away" divider, play buttons and the "recorded" badge is
// here. See internal/gateway's package doc for the messages.
'use strict';
window.HarkHistory = (() => {
  let A = null;               // app.js's api: {S, send, addLog, flash, hhmm, initAudio, render}
  const H = {
    enabled: false,           // the relay keeps history (welcome)
    mode: 'off',              // the channel's history setting: off | text | voice
    shown: new Map(),         // item id -> its <li> in the log
    items: new Map(),         // item id -> the item shown
    newest: 0,                // the newest item id this page knows
    lastAudio: 0,             // the newest playable item id shown
    before: 0,                // the newest id known when the last transmission began
    anchor: null,             // earlier history goes before this element
    divider: null,            // the current "while you were away" divider
    req: 0, reqs: new Map(),  // history requests in flight: req -> purpose
    playing: 0,               // id of the replay under way (0: none)
    missed: [],               // ids shown as missed (tests)
    log: [],                  // events for tests
  };
  const EARLIER = 30;         // items of a channel shown when joining it

  function ev(type, d) { H.log.push(Object.assign({type, at: Date.now()}, d || {})); if (H.log.length > 200) H.log.shift(); }
  function $(id) { return document.getElementById(id); }

  function secs(ms) { return (Math.round(ms / 100) / 10).toFixed(1) + ' s'; }

  // describe is one line for an item, without its time.
  function describe(it) {
    const me = A.S.me ? A.S.me.name : '';
    switch (it.kind) {
    case 'text': return {who: it.from + ': ', text: it.text};
    case 'private': {
      const to = it.to === me ? 'you' : it.to;
      const waiting = it.waiting && it.from === me ? ' (waiting: ' + it.to + ' has not logged in since)' : '';
      return {who: it.from + ' → ' + to + ': ', text: it.text + waiting};
    }
    case 'voice': return {who: it.from, text: ' talked for ' + secs(it.duration_ms || 0) + (it.channel && it.channel !== A.S.channel ? ' in ' + it.channel : '') + (it.cut ? ' (only the start was kept)' : '')};
    case 'ring': return {who: it.from, text: ' rang everyone' + (it.text ? ': ' + it.text : '')};
    case 'page': return {who: it.from, text: ' paged everyone' + (it.duration_ms ? ' for ' + secs(it.duration_ms) : '')};
    }
    return {who: it.from, text: ''};
  }

  // itemLi makes the log line of an item, with a play button when it has sound.
  function itemLi(it, missed) {
    const li = document.createElement('li');
    li.className = 'hist ' + ({private: 'private', ring: 'ringmsg', page: 'ringmsg', voice: 'voice'}[it.kind] || '');
    if (missed) li.classList.add('missed');
    li.dataset.id = it.id;
    const t = document.createElement('time');
    const d = new Date(it.time);
    const today = new Date().toDateString() === d.toDateString();
    t.textContent = (today ? '' : d.toLocaleDateString([], {month: 'short', day: 'numeric'}) + ' ') + A.hhmm(it.time);
    li.appendChild(t);
    const {who, text} = describe(it);
    const w = document.createElement('span'); w.className = 'who'; w.textContent = who; li.appendChild(w);
    li.appendChild(document.createTextNode(text));
    if (it.audio) {
      const b = document.createElement('button');
      b.className = 'play small';
      b.type = 'button';
      b.textContent = '▶ Play';
      b.title = 'Play this transmission';
      b.addEventListener('click', () => toggle(it.id));
      li.appendChild(b);
    }
    return li;
  }

  function scroll() { const log = $('log'); log.scrollTop = log.scrollHeight; }

  // place puts an item's line in the log: missed ones after the divider,
  // earlier ones before the anchor, new ones at the end. An item already
  // shown is moved (to the divider) only when it turns out to be missed.
  function place(it, where) {
    H.newest = Math.max(H.newest, it.id);
    const log = $('log');
    const old = H.shown.get(it.id);
    if (H.shown.has(it.id) && (where !== 'missed' || !old)) return; // shown already (null: shown live by app.js)
    const li = itemLi(it, where === 'missed');
    if (old) old.remove();
    H.shown.set(it.id, li);
    H.items.set(it.id, it);
    if (it.audio) H.lastAudio = Math.max(H.lastAudio, it.id);
    if (where === 'earlier' && H.anchor && H.anchor.parentNode === log) log.insertBefore(li, H.anchor);
    else log.appendChild(li);
  }

  function showMissed(m) {
    const items = m.items || [];
    if (!items.length) return;
    const log = $('log');
    const div = document.createElement('li');
    div.className = 'divider';
    div.textContent = 'While you were away (' + items.length + (m.more ? '+' : '') + ')';
    log.appendChild(div);
    H.divider = div;
    for (const it of items) { place(it, 'missed'); H.missed.push(it.id); }
    const end = document.createElement('li');
    end.className = 'divider end';
    end.textContent = m.more ? 'More was missed than fits here; older items are not shown' : 'Up to now';
    log.appendChild(end);
    scroll();
    ev('missed', {n: items.length});
    const rings = items.filter((it) => it.kind === 'ring');
    const priv = items.filter((it) => it.kind === 'private' && A.S.me && it.to === A.S.me.name);
    const parts = [];
    if (priv.length) parts.push(priv.length + (priv.length > 1 ? ' private messages' : ' private message'));
    if (rings.length) parts.push(rings.length > 1 ? rings.length + ' rings' : 'a ring from ' + rings[0].from);
    const voice = items.filter((it) => it.audio).length;
    if (voice) parts.push(voice + (voice > 1 ? ' recordings' : ' recording'));
    if (parts.length) A.flash('While you were away: ' + parts.join(', '), 'info', 6000);
  }

  function request(purpose, q) {
    const req = ++H.req;
    H.reqs.set(req, purpose);
    A.send(Object.assign({t: 'history', req}, q));
  }

  // Earlier items of the channel just joined, before what happens now.
  function loadEarlier() {
    const log = $('log');
    const a = document.createElement('li');
    a.className = 'anchor';
    log.appendChild(a);
    H.anchor = a;
    request('earlier', {channel: A.S.channel, limit: EARLIER});
  }

  function onHistory(m) {
    const purpose = H.reqs.get(m.req);
    H.reqs.delete(m.req);
    if (!purpose) return;
    if (m.error) { ev('historyError', {text: m.error}); return; }
    const items = (m.items || []).slice().sort((a, b) => a.id - b.id);
    if (purpose === 'earlier') {
      const fresh = items.filter((it) => !H.shown.has(it.id));
      if (fresh.length && H.anchor && H.anchor.parentNode) {
        const head = document.createElement('li');
        head.className = 'divider earlier';
        head.textContent = 'Earlier in ' + (m.channel || A.S.channel) + (m.more ? ' (the latest ' + items.length + ')' : '');
        $('log').insertBefore(head, H.anchor);
      }
      for (const it of fresh) place(it, 'earlier');
    } else if (purpose === 'waiting') {
      // Private texts this user sent that still wait for their recipient.
      const me = A.S.me ? A.S.me.name : '';
      const mine = items.filter((it) => it.waiting && it.from === me && !H.shown.has(it.id));
      if (mine.length) {
        const div = document.createElement('li');
        div.className = 'divider';
        div.textContent = 'Your private messages still waiting for someone to log in (' + mine.length + ')';
        $('log').appendChild(div);
        for (const it of mine) place(it, 'new');
        scroll();
      }
    } else {
      // New transmissions after one ended: their play buttons. The relay
      // stores a transmission just after it ends; ask once more if it
      // was not there yet.
      const fresh = items.filter((it) => it.audio && !H.shown.has(it.id));
      for (const it of fresh) place(it, 'new');
      if (fresh.length) scroll();
      else if (purpose === 'new') setTimeout(() => request('new-again', newQuery()), 1500);
    }
    ev('history', {purpose, n: items.length});
  }

  // newQuery asks for the channel's transmissions newer than the last one shown.
  function newQuery() {
    return {channel: A.S.channel, kinds: (1 << 3) | (1 << 5), after: Math.max(H.lastAudio, H.before), limit: 20}; // 3: voice, 5: page
  }

  function toggle(id) {
    if (H.playing === id) { A.send({t: 'play_stop'}); return; }
    A.initAudio().catch(() => {});
    A.send({t: 'play', id});
    setPlaying(id, 'Loading…');
  }

  function setPlaying(id, label) {
    for (const [iid, li] of H.shown) {
      const b = li.querySelector('button.play');
      if (!b) continue;
      const on = iid === id && label;
      b.textContent = on ? label : '▶ Play';
      b.classList.toggle('live', !!on);
    }
    H.playing = label ? id : 0;
  }

  function onReplay(m) {
    ev('replay', {id: m.id, state: m.state, text: m.text || ''});
    switch (m.state) {
    case 'playing': setPlaying(m.id, '■ Stop'); break;
    case 'done': setPlaying(0, ''); break;
    case 'stopped':
      setPlaying(0, '');
      if (A.S.play) A.S.play.port.postMessage({end: REPLAY_TALKER});
      if (m.text && m.text !== 'Stopped.') A.flash('Replay stopped: ' + m.text, 'info', 3000);
      break;
    case 'error': setPlaying(0, ''); A.flash(m.text || 'The recording could not be played.', '', 5000); break;
    }
  }
  const REPLAY_TALKER = 0xFFFFFFF0;

  function badge() {
    let b = $('recorded');
    if (!b) {
      b = document.createElement('span');
      b.id = 'recorded';
      b.className = 'recorded';
      const ch = $('channel');
      ch.parentNode.insertBefore(b, ch.nextSibling);
    }
    b.className = 'recorded ' + H.mode;
    b.classList.toggle('hidden', H.mode === 'off');
    b.textContent = H.mode === 'voice' ? '● recorded' : 'texts kept';
    b.title = H.mode === 'voice' ? 'This channel records voice: what is said here is kept and can be played again.'
      : 'This channel keeps its texts for people who were away.';
  }

  return {
    init(api) { A = api; },
    onMessage(m) {
      if (!A) return;
      switch (m.t) {
      case 'welcome':
        H.enabled = !!m.history;
        if (H.enabled) request('waiting', {kinds: 1 << 2, limit: 100}); // 2: private texts
        break;
      case 'joined':
        H.mode = m.history || 'off';
        badge();
        if (H.enabled && (m.channel !== H.channel || !H.anchor)) { H.channel = m.channel; loadEarlier(); }
        break;
      case 'missed': showMissed(m); break;
      case 'history': onHistory(m); break;
      case 'replay': onReplay(m); break;
      case 'text':
        if (m.id) { H.newest = Math.max(H.newest, m.id); H.shown.set(m.id, null); }
        break;
      case 'text_ack': {
        const it = H.items.get(m.id);
        if (m.status === 'waiting') A.addLog('sys', '', m.to + ' is offline: your message waits and is delivered when they next log in.');
        else if (m.status === 'delivered' && (m.to || it)) {
          A.addLog('sys', '', 'Your message to ' + (m.to || it.to) + ' was delivered.');
          if (it && it.waiting) { // no longer waiting: draw it again
            it.waiting = false;
            const old = H.shown.get(it.id), li = itemLi(it, false);
            if (old) old.replaceWith(li);
            H.shown.set(it.id, li);
          }
        }
        ev('textAck', {id: m.id, status: m.status});
        break;
      }
      case 'talking':
        // A transmission ended in the channel: it may now be playable.
        if (m.on) H.before = H.newest;
        else if (H.enabled && H.mode === 'voice') setTimeout(() => request('new', newQuery()), 300);
        break;
      }
    },
    // Test hooks.
    test: {
      state: () => ({enabled: H.enabled, mode: H.mode, playing: H.playing, missed: H.missed.slice(),
        items: [...H.shown.entries()].filter(([, li]) => li).map(([id, li]) => ({id, text: li.textContent, playable: !!li.querySelector('button.play')})),
        dividers: [...document.querySelectorAll('#log li.divider')].map((li) => li.textContent)}),
      events: () => H.log,
      play: (id) => toggle(id),
    },
  };
})();
