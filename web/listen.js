// Hark web client: listening to several channels and calls, kept apart
// from app.js. Ticking a channel under "Also hear" asks the gateway to
// forward it ({"t":"listen"}); each heard channel has its own volume,
// applied to the audio marked with its id. Holding a person's name in the
// list talks to them alone ({"t":"talk","to":NAME}); ticking several names
// (or "everyone with the page role") and holding "Hold to call" talks to
// them alone together ({"t":"talk","to":"bob,carol"} or "role:page", as
// `talk send --to`); a refusal (someone offline, already called) is said in
// words. A call to this user shows "NAME → you" with its own knock cue.
// app.js calls HarkListen.init(api) once, HarkListen.onMessage(m) for
// every message, HarkListen.decorateUser(li, u) for each person listed and
// HarkListen.gain(channelId) for every audio frame.
'use strict';
window.HarkListen = (() => {
  let A = null;                 // app.js's api: {S, send, addLog, flash, tone, initAudio, render, startTalk, stopTalk, hold}
  const WHISPER = 0xFFFD;       // the channel id of a call's audio
  const L = {
    heard: [],                  // [{name, id}] the channels heard besides ours, as the gateway confirmed
    gains: new Map(),           // channel id -> volume (0..2; absent: 1)
    talking: new Map(),         // "channel/id" -> {channel, name} who talks in a heard channel
    call: null,                 // {from, to: [names]} the call to or from us on the air ('you' for this user)
    picked: [],                 // names and role:ROLE ticked for a group call, in the order ticked
    log: [],                    // events for tests
  };
  function $(id) { return document.getElementById(id); }
  function ev(type, d) { L.log.push(Object.assign({type, at: Date.now()}, d || {})); if (L.log.length > 200) L.log.shift(); }

  // The call cue: a double knock of high pips, as on talk and the boxes.
  function knock() {
    const S = A.S;
    if (!S.ctx) return;
    const t = S.ctx.currentTime;
    for (const k of [0, 0.1, 0.32, 0.42]) A.tone([1174.66, 2349.32], 0.06, 0.15, t + k);
  }

  function channelId(name) { const c = A.S.channels.find((x) => x.name === name); return c ? c.id : 0; }

  // The "Also hear" list: a tick and a volume for every channel but ours.
  let drawn = '';
  function renderList() {
    const box = $('listenList');
    if (!box) return;
    // Rebuilt only when something it shows changed (not under a moving slider).
    const key = JSON.stringify([A.S.channels, A.S.channel, L.heard, [...L.talking.entries()]]);
    if (key === drawn) return;
    drawn = key;
    box.textContent = '';
    for (const c of A.S.channels) {
      if (c.name === A.S.channel) continue;
      const row = document.createElement('label');
      row.className = 'listenrow';
      const tick = document.createElement('input');
      tick.type = 'checkbox';
      tick.dataset.channel = c.name;
      tick.checked = L.heard.some((h) => h.name === c.name);
      if (c.closed && !tick.checked) { tick.disabled = true; tick.title = 'This channel is closed to you (its rules)'; }
      tick.addEventListener('change', () => {
        const want = L.heard.map((h) => h.name).filter((n) => n !== c.name);
        if (tick.checked) want.push(c.name);
        A.initAudio();
        A.send({t: 'listen', channels: want});
        ev('listen', {channels: want});
      });
      const vol = document.createElement('input');
      vol.type = 'range'; vol.min = '0'; vol.max = '200'; vol.step = '10';
      vol.value = String(Math.round(100 * (L.gains.has(c.id) ? L.gains.get(c.id) : 1)));
      vol.title = 'Volume of ' + c.name;
      vol.dataset.volume = c.name;
      vol.addEventListener('input', () => { L.gains.set(c.id, Number(vol.value) / 100); });
      const who = [...L.talking.values()].filter((t) => t.channel === c.name).map((t) => t.name);
      const name = document.createElement('span');
      name.textContent = '# ' + c.name + (who.length ? ' — ' + who.join(', ') + ' talking' : '');
      if (who.length) name.className = 'talking';
      row.append(tick, name, vol);
      box.appendChild(row);
    }
    const wrap = $('listen');
    if (wrap) wrap.classList.toggle('hidden', A.S.channels.length < 2);
  }

  function showCall() {
    const b = $('callBanner');
    if (!b) return;
    if (!L.call) { b.classList.add('hidden'); return; }
    const you = L.call.to[0] === 'you';
    b.textContent = L.call.from + ' → ' + L.call.to.join(', ') + (you ? ' (only you hear this)' : L.call.to.length > 1 ? ' (only they hear you)' : ' (only ' + L.call.to[0] + ' hears you)');
    b.classList.remove('hidden');
  }

  function onMessage(m) {
    switch (m.t) {
    case 'welcome':
      L.heard = []; L.talking.clear(); L.call = null; showCall();
      break;
    case 'listening':
      L.heard = m.channels || [];
      ev('listening', {channels: L.heard.map((h) => h.name)});
      break;
    case 'talking':
      if (!m.monitored) break;
      if (m.on) L.talking.set(m.channel + '/' + m.id, {channel: m.channel, name: m.name});
      else L.talking.delete(m.channel + '/' + m.id);
      break;
    case 'call': {
      // A group call is one call event per callee.
      const from = m.mine ? 'you' : m.from, to = m.to_me ? 'you' : m.to;
      if (m.on) {
        if (!L.call || L.call.from !== from) L.call = {from, to: []};
        if (!L.call.to.includes(to)) L.call.to.push(to);
        A.addLog('private', from + ' → ' + to + ': ', '(a call: nobody else hears it)');
        if (m.to_me) { knock(); if (navigator.vibrate) navigator.vibrate([60, 40, 60]); }
      } else if (L.call && L.call.from === from) {
        L.call.to = L.call.to.filter((x) => x !== to);
        if (!L.call.to.length) L.call = null;
      }
      ev('call', {from: m.from, to: m.to, on: !!m.on, toMe: !!m.to_me});
      showCall();
      break;
    }
    }
  }

  // gain returns the volume of audio marked with channel id (app.js).
  function gain(id) {
    if (!id || id === WHISPER) return 1;
    const g = L.gains.get(id);
    return g === undefined ? 1 : g;
  }

  // ---- group calls: tick names (or a role), hold one button ----
  const ROLES = {'role:page': 'those with the page role', 'role:admin': 'the admins'};
  const online = (name) => A.S.users.some((u) => u.name === name);
  // callees words a call's to for people: "bob", "bob and carol",
  // "those with the page role"; plural says whether it takes "hear".
  function callees(to) {
    const names = to.split(',').map((n) => n.trim()).filter(Boolean);
    const w = names.map((n) => ROLES[n] || n);
    const text = w.length > 1 ? w.slice(0, -1).join(', ') + ' and ' + w[w.length - 1] : (w[0] || '');
    return {text, plural: names.length > 1 || !!ROLES[names[0]]};
  }
  // onlyHear is what the page says while a call is on the air.
  function onlyHear(to) {
    const c = callees(to);
    return 'Only ' + c.text + (c.plural ? ' hear you' : ' hears you');
  }
  function pick(name, on) {
    L.picked = L.picked.filter((n) => n !== name);
    if (on) L.picked.push(name);
    ev('pick', {picked: L.picked.slice()});
    A.render();
  }
  // decorateUser adds the tick that picks a person for a group call (app.js
  // calls it for each person listed but this user).
  function decorateUser(li, u) {
    if (A.S.me && u.id === A.S.me.session) return;
    const tick = document.createElement('input');
    tick.type = 'checkbox';
    tick.className = 'pick';
    tick.dataset.pick = u.name;
    tick.checked = L.picked.includes(u.name);
    tick.title = 'Pick ' + u.name + ' for a group call';
    tick.setAttribute('aria-label', tick.title);
    tick.addEventListener('change', () => pick(u.name, tick.checked));
    li.prepend(tick);
  }
  let holdingGroup = false;
  // renderGroup shows the group call's button with whom it calls; a picked
  // person who went offline stays picked (the call then says so in words).
  function renderGroup() {
    const box = $('group');
    if (!box) return;
    const others = A.S.users.some((u) => !(A.S.me && u.id === A.S.me.session));
    box.classList.toggle('hidden', !others && !L.picked.length);
    for (const r of box.querySelectorAll('input[data-role]')) r.checked = L.picked.includes(r.dataset.role);
    // A picked person who is offline has no tick in the list: theirs is here.
    const away = $('groupAway');
    away.textContent = '';
    for (const n of L.picked.filter((x) => !ROLES[x] && !online(x))) {
      const row = document.createElement('label');
      const tick = document.createElement('input');
      tick.type = 'checkbox'; tick.checked = true; tick.dataset.pick = n;
      tick.addEventListener('change', () => pick(n, tick.checked));
      row.append(tick, ' ' + n + ' (offline)');
      away.appendChild(row);
    }
    const btn = $('callGroup');
    btn.classList.toggle('hidden', !L.picked.length);
    const who = callees(L.picked.map((n) => (ROLES[n] || online(n) ? n : n + ' (offline)')).join(',')).text;
    const st = A.S.floor;
    btn.textContent = !holdingGroup ? 'Hold to call ' + who : st === 'talking' ? 'Calling ' + who + '…' :
      st === 'busy' || st === 'refused' || st === 'cut' ? 'Not now' : 'Wait…';
    btn.classList.toggle('talking', holdingGroup && st === 'talking');
  }
  function bindGroup() {
    const box = $('group'), btn = $('callGroup');
    if (!box || !btn) return;
    for (const r of box.querySelectorAll('input[data-role]')) r.addEventListener('change', () => pick(r.dataset.role, r.checked));
    A.hold(btn, () => {
      if (!L.picked.length || A.S.pressed) return false;
      holdingGroup = true;
      ev('callPress', {to: L.picked.join(',')});
      A.startTalk('call', false, false, L.picked.join(','));
    }, () => { if (holdingGroup) { holdingGroup = false; A.stopTalk('call'); } });
  }

  // Holding a person's name in the list talks to them alone.
  function bindUsers() {
    const ul = $('users');
    if (!ul) return;
    let holding = '';
    // The pointer is held by the list, which stays while its entries are
    // drawn again.
    A.hold(ul, (e) => {
      if (e.target.closest('button, input')) return false; // the volume button (intercom.js), the group tick
      const li = e.target.closest('li');
      if (!li || !li.dataset.name || li.classList.contains('self')) return false;
      holding = li.dataset.name;
      ev('callPress', {to: holding});
      A.startTalk('call', false, false, holding);
    }, () => { if (holding) { holding = ''; A.stopTalk('call'); } });
  }

  function init(api) {
    A = api;
    bindUsers();
    bindGroup();
  }

  return {
    init, onMessage, gain, channelId, decorateUser, onlyHear,
    render: () => { renderList(); renderGroup(); },
    // For tests.
    state: () => ({heard: L.heard.map((h) => h.name), call: L.call, talking: [...L.talking.values()], picked: L.picked.slice()}),
    events: () => L.log,
    setVolume: (name, v) => { L.gains.set(channelId(name), v); renderList(); },
  };
})();
