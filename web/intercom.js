// Hark web client: intercom controls kept apart from app.js — alarms (raise
// one, acknowledge one, a repeating tone until this station acknowledged),
// the sound-off switch, "Test my microphone" (an echo test: 3 s to the
// intercom alone, which plays them back) and each person's volume (a button
// beside each name: full, half, muted; kept per name in localStorage, so it
// follows the person across reconnections, as in the terminal UI). app.js calls HarkIntercom.init(api) once and
// HarkIntercom.onMessage(m) for every message from the gateway.
'use strict';
window.HarkIntercom = (() => {
  let A = null;                 // app.js's api: {S, send, addLog, flash, tone, initAudio, render, startTalk, stopTalk}
  const ECHO_MS = 3000;         // how long the microphone test records
  const I = {
    alarms: new Map(),          // alarm id -> {from, text} ringing here, not acknowledged
    timer: 0,                   // the alarm tone's repeat timer
    soundOff: false,            // the sound-off switch: nothing is played
    echoing: false,             // the microphone test is recording
    log: [],                    // events for tests
    gains: new Map(),           // user name -> 0.5 or 0 (absent: full volume)
  };
  const GAIN_STEPS = [1, 0.5, 0];
  const GAIN_ICON = {1: '100%', 0.5: '50%', 0: 'muted'};

  function loadGains() {
    try {
      const g = JSON.parse(localStorage.getItem('hark.gains') || '{}');
      for (const [n, v] of Object.entries(g)) if (v === 0 || v === 0.5) I.gains.set(n, v);
    } catch (e) { /* private mode or a damaged entry: full volume for everyone */ }
  }
  function saveGains() {
    try { localStorage.setItem('hark.gains', JSON.stringify(Object.fromEntries(I.gains))); } catch (e) { /* private mode */ }
  }
  function gainOf(name) { return I.gains.has(name) ? I.gains.get(name) : 1; }
  function setGain(name, g) {
    if (g === 1) I.gains.delete(name); else I.gains.set(name, g);
    saveGains();
    ev('gain', {name, gain: g});
    A.addLog('sys', '', g === 0 ? name + ' is muted for you (others still hear them).' : name + ' plays at ' + Math.round(g * 100) + '% for you.');
    A.render();
  }
  // nameOfTalker maps a talker id (the relay's session id) to a name.
  function nameOfTalker(id) {
    const u = A.S.users.find((x) => x.id === id);
    if (u) return u.name;
    const t = A.S.talkers.get(id);
    return t ? t.name : '';
  }
  function $(id) { return document.getElementById(id); }
  function ev(type, d) { I.log.push(Object.assign({type, at: Date.now()}, d || {})); if (I.log.length > 200) I.log.shift(); }

  // The alarm tone: 960/770 Hz alternating, as on the boxes and talk.
  function alarmTone() {
    const S = A.S;
    if (!S.ctx) return;
    const t = S.ctx.currentTime;
    for (let i = 0; i < 4; i++) A.tone([i % 2 ? 770 : 960], 0.25, 0.25, t + i * 0.25);
  }
  function ringOn() {
    if (I.timer) return;
    alarmTone();
    I.timer = setInterval(alarmTone, 1000);
  }
  function ringOff() {
    if (I.timer) { clearInterval(I.timer); I.timer = 0; }
  }

  function show() {
    const box = $('alarmBanner');
    if (!box) return;
    if (I.alarms.size === 0) { box.classList.add('hidden'); return; }
    const [id, a] = [...I.alarms.entries()].pop();
    $('alarmText').textContent = 'ALARM from ' + a.from + (a.text ? ': ' + a.text : '') +
      (I.alarms.size > 1 ? ' (and ' + (I.alarms.size - 1) + ' more)' : '');
    $('alarmAck').dataset.id = String(id);
    box.classList.remove('hidden');
  }

  function rang(m) {
    const mine = A.S.me && m.from === A.S.me.name;
    A.addLog('ringmsg', m.from, ' raised an ALARM' + (m.text ? ': ' + m.text : ''), m.time);
    ev('alarm', {id: m.alarm, from: m.from, mine});
    if (mine) { A.flash('Alarm raised: every station rings until someone there acknowledges it.', 'info', 6000); return; }
    I.alarms.set(m.alarm, {from: m.from, text: m.text || ''});
    ringOn();
    show();
    if (document.hidden && window.Notification && Notification.permission === 'granted') {
      try { new Notification('ALARM from ' + m.from, {body: m.text || 'Open Hark to acknowledge.', tag: 'hark-alarm-' + m.alarm, requireInteraction: true}); } catch (e) { /* not allowed here */ }
    }
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  }

  function acked(m) {
    A.addLog('sys', '', m.text); // worded by the gateway (client.AlarmAckText, as talk and the terminal UI)
    ev('alarm_ack', {id: m.id, name: m.name, over: !!m.over, mine: !!m.mine});
    if (m.over || m.mine) {
      I.alarms.delete(m.id);
      if (I.alarms.size === 0) ringOff();
      show();
    }
  }

  // micTest records ECHO_MS of the microphone as an echo test; the
  // intercom plays it back to this page alone once it ends.
  async function micTest() {
    if (I.echoing || A.S.pressed) return;
    I.echoing = true;
    ev('echo', {state: 'recording'});
    A.flash('Microphone test: speak now for 3 seconds. The intercom plays it back to you alone.', 'info', ECHO_MS);
    await A.startTalk('echo', false, true);
    setTimeout(() => {
      A.stopTalk('echo');
      I.echoing = false;
      ev('echo', {state: 'playing'});
      A.flash('Playing back what the intercom heard…', 'info', ECHO_MS + 1000);
    }, ECHO_MS);
  }

  function setSoundOff(off) {
    I.soundOff = off;
    const S = A.S;
    if (S.out) S.out.gain.value = off ? 0 : 1;
    const b = $('soundOff');
    if (b) { b.setAttribute('aria-pressed', String(off)); b.textContent = off ? 'Sound is off' : 'Sound on'; }
    try { localStorage.setItem('hark.soundOff', off ? '1' : ''); } catch (e) { /* private mode */ }
    ev('sound', {off});
  }

  return {
    init(api) {
      A = api;
      const raise = $('alarm');
      if (raise) raise.addEventListener('click', () => {
        if (!window.confirm('Raise an ALARM at every station? Each one rings until someone there acknowledges it.')) return;
        A.initAudio();
        A.send({t: 'alarm'});
      });
      const ack = $('alarmAck');
      if (ack) ack.addEventListener('click', () => {
        const id = Number(ack.dataset.id);
        if (id) A.send({t: 'alarm_ack', id});
      });
      const mt = $('micTest');
      if (mt) mt.addEventListener('click', () => { micTest(); });
      const so = $('soundOff');
      if (so) so.addEventListener('click', () => { A.initAudio().then(() => setSoundOff(!I.soundOff)); });
      let stored = false;
      try { stored = localStorage.getItem('hark.soundOff') === '1'; } catch (e) { /* private mode */ }
      if (stored) setSoundOff(true);
      loadGains();
    },
    onMessage(m) {
      switch (m.t) {
      case 'ring': if (m.alarm) rang(m); break;
      case 'alarm_ack': acked(m); break;
      case 'welcome': if (I.soundOff) setSoundOff(true); break;
      }
    },
    // scale applies the talker's volume to one frame of PCM in place; it
    // returns false when the talker is muted here (the frame is not played).
    scale(talker, pcm) {
      if (!A || I.gains.size === 0) return true;
      const g = gainOf(nameOfTalker(talker));
      if (g === 1) return true;
      if (g === 0) return false;
      for (let i = 0; i < pcm.length; i++) pcm[i] = pcm[i] * g;
      return true;
    },
    // gainOfTalker is the volume (1, 0.5 or 0) of a talker id.
    gainOfTalker(talker) { return A ? gainOf(nameOfTalker(talker)) : 1; },
    // decorateUser adds the volume button to a person's entry in the list.
    decorateUser(li, u) {
      if (!A || (A.S.me && u.id === A.S.me.session)) return;
      const g = gainOf(u.name);
      const b = document.createElement('button');
      b.className = 'vol small' + (g === 0 ? ' muted' : '');
      b.dataset.name = u.name;
      b.textContent = GAIN_ICON[g];
      b.title = (g === 0 ? u.name + ' is muted for you' : u.name + ' at ' + Math.round(g * 100) + '%') + ': tap to change (full, half, muted)';
      b.setAttribute('aria-label', 'Volume of ' + u.name);
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        setGain(u.name, GAIN_STEPS[(GAIN_STEPS.indexOf(g) + 1) % GAIN_STEPS.length]);
      });
      li.appendChild(b);
      if (g === 0) li.classList.add('muted');
    },
    // audioReady re-applies the sound-off switch to a new audio graph.
    audioReady() { if (I.soundOff) setSoundOff(true); },
    test: {alarms: () => [...I.alarms.keys()], events: () => I.log, soundOff: () => I.soundOff, ringing: () => !!I.timer,
      micTest: () => micTest(), gain: (name) => gainOf(name), setGain: (name, g) => setGain(name, g)},
  };
})();
