// Hark web client. Talks to the gateway over one websocket: JSON text frames
// for control, binary frames for audio (see internal/gateway's package doc).
// Where the browser has WebTransport and WebCodecs it races a WebTransport
// session straight to the relay (web/wt.js) against the websocket: the
// WebTransport session wins when it logs in within WT_WAIT_MS, the websocket
// otherwise (a browser without it, or where it is broken). ?transport=websocket
// skips the race.
'use strict';
(() => {
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const FRAME_MS = 20;

// Binary frame kinds (first byte).
const BIN_PCM = 1, BIN_MEDIA = 2, BIN_WAV = 3, BIN_OPUS = 4;
// The WebCodecs Opus encoder's settings: 20 ms frames with in-band FEC, like
// the gateway's own encoder; the gateway forwards the packets untouched.
const OPUS_CONFIG = {codec: 'opus', sampleRate: 48000, numberOfChannels: 1, bitrate: 24000,
  opus: {frameDuration: 20000, useinbandfec: true, packetlossperc: 10}};
const PATHS = ['worklet', 'webcodecs', 'mediarecorder'];
const WT_WAIT_MS = 4000;

const S = {
  ws: null, wt: null, transport: '', lastTransport: '', wtFails: 0, connGen: 0, wtTicket: null, wtRefused: {}, loggedIn: false, wsWelcomed: false, closeText: '', wantOnline: false, retry: 0, retryTimer: null,
  creds: null, me: null, channel: '', channels: [], users: [],
  talkers: new Map(),          // session id -> {name, priority}
  ctx: null, capture: null, play: null, tap: null, recorder: null,
  // WebCodecs by default (measured: the same delay as PCM, a 30th of the
  // upload, less gateway CPU); PCM where the browser has no Opus encoder.
  path: PATHS.includes(params.get('path')) ? params.get('path') : 'webcodecs',
  txPath: '',         // the path of the press in progress (webcodecs falls back to worklet)
  enc: null, encTs: 0, // WebCodecs AudioEncoder of the press in progress
  playback: params.get('playback') === 'wav' ? 'wav' : 'pcm',
  pressed: false,     // the user holds the talk button (or VOX is open)
  pageTx: false,      // the press is a page to every channel (page button)
  roles: [],          // from the welcome: 'page' shows the page button
  pageFrom: '',       // who is paging everyone right now ('' if nobody)
  sending: false,     // a transmission is open at the gateway
  // The push-to-talk floor, by the names of the Go machine every other front
  // end shares (client.Floor in internal/client/floor.go; the gateway drives
  // one per page and tells this page its changes): idle, requesting (pressed,
  // asked; the gateway holds what is said meanwhile), releasing (released
  // before the answer: the held words still go out on a grant), talking,
  // busy (someone else talks), refused (another refusal), cut (a page, the
  // maximum length or a lost link ended it). The same policy: audio is sent
  // from the press, a short press is heard, a refused or cut press sends
  // nothing more until the release. One difference, for the eye only: after
  // the release the page shows "busy" a moment longer (banner).
  floor: 'idle',
  seq: 0, vox: false, voxOpen: false, voxQuiet: 0, voxLoud: 0, preroll: [],
  mr: null, mrChain: Promise.resolve(),
  log: [],            // events for tests
  stats: {sentFrames: 0, recvFrames: 0, recvBytes: 0, wavBlobs: 0, capSamples: 0, drained: 0, mutedFrames: 0, recvByChannel: {},
    micOpens: 0, startSkipped: 0, tones: 0},
  // The microphone (openMic, closeMic): the stream while open, the one
  // being opened, a counter that tells an opening it was turned off
  // meanwhile, whether the page may open it without a prompt, and the idle
  // countdown. encSpare: a configured encoder for the next press.
  mic: null, micSrc: null, micOpening: null, micGen: 0, micGranted: false, micIdleTimer: null, micIdleMs: 0, encSpare: null,
  txSent: false, txSkipped: 0, // the press's first frame is sent; quiet stale frames left out before it (onCaptureFrame)
  capOnsets: [],      // context times of sound onsets at the capture (tests)
};

// ---------- helpers ----------
function ev(type, detail) {
  S.log.push(Object.assign({type, at: Date.now()}, detail || {}));
  if (S.log.length > 500) S.log.shift();
}
function hhmm(ms) {
  const d = ms ? new Date(ms) : new Date();
  return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'});
}
// banner shows text at the top of the page, above the controls (never over
// them); '' hides it, or shows the page in progress if there is one.
function banner(text, kind) {
  const b = $('banner');
  if (!text && S.pageFrom) { text = pageText(); kind = 'page'; }
  if (!text) { b.classList.add('hidden'); return; }
  b.textContent = text;
  b.className = 'banner ' + (kind || '');
}
let bannerTimer = null;
function flash(text, kind, ms) {
  banner(text, kind);
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => { if (!S.reconnecting) banner(''); }, ms || 3000);
}
function pageText() {
  return S.me && S.pageFrom === S.me.name ? 'You are paging everyone' : S.pageFrom + ' is paging everyone';
}
function addLog(cls, who, text, time) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  const t = document.createElement('time');
  t.textContent = hhmm(time);
  li.appendChild(t);
  if (who) { const w = document.createElement('span'); w.className = 'who'; w.textContent = who; li.appendChild(w); }
  li.appendChild(document.createTextNode(text));
  const log = $('log');
  log.appendChild(li);
  while (log.children.length > 300) log.removeChild(log.firstChild);
  log.scrollTop = log.scrollHeight;
}
function send(obj) {
  if (S.wt) {
    if (S.wt.send(obj)) return true;
    // Only the gateway offers it (history, replays, alarms, clips, the
    // microphone test): say so once per kind of request.
    ev('wtUnsupported', {t: obj.t});
    if (!S.wtRefused[obj.t] && !['history', 'play', 'play_stop', 'read'].includes(obj.t)) {
      S.wtRefused[obj.t] = true;
      flash('Not available over WebTransport. Open the page with ?transport=websocket to use it.', 'warn', 6000);
    }
    return false;
  }
  if (S.transport === 'websocket' && S.ws && S.ws.readyState === WebSocket.OPEN) { S.ws.send(JSON.stringify(obj)); return true; }
  return false;
}
function sendBin(kind, payload) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return;
  if (S.ws.bufferedAmount > 256 * 1024) { ev('sendbackpressure'); return; } // never let delay pile up
  const b = new Uint8Array(1 + payload.byteLength);
  b[0] = kind;
  b.set(new Uint8Array(payload.buffer || payload, payload.byteOffset || 0, payload.byteLength), 1);
  S.ws.send(b);
}

// ---------- events for pwa.js ----------
// emit tells web/pwa.js (notifications, wake lock, headset button) what
// happened: a "hark:NAME" event on window with detail.
function emit(name, detail) {
  try { window.dispatchEvent(new CustomEvent('hark:' + name, {detail: detail || {}})); } catch (e) { /* no listener */ }
}
const mine = (from) => !!S.me && from === S.me.name;

// ---------- sounds ----------
function tone(freqs, dur, gain, at) {
  if (!S.ctx || S.muted) return;
  S.stats.tones++;
  const t0 = (at || S.ctx.currentTime) + 0.01;
  const g = S.ctx.createGain();
  g.gain.setValueAtTime(0, t0);
  g.gain.linearRampToValueAtTime(gain, t0 + 0.01);
  g.gain.setValueAtTime(gain, t0 + dur - 0.02);
  g.gain.linearRampToValueAtTime(0, t0 + dur);
  g.connect(S.out);
  for (const f of freqs) { const o = S.ctx.createOscillator(); o.frequency.value = f; o.connect(g); o.start(t0); o.stop(t0 + dur); }
}
const sounds = {
  permit() { tone([1200], 0.06, 0.15); },
  release() { tone([800], 0.05, 0.1); },
  busy() { if (!S.ctx) return; const t = S.ctx.currentTime; for (let i = 0; i < 3; i++) tone([480, 620], 0.25, 0.12, t + i * 0.5); },
  ring() { if (!S.ctx) return; const t = S.ctx.currentTime; for (let i = 0; i < 2; i++) for (let k = 0; k < 10; k++) tone([440, 480], 0.05, 0.15, t + i * 0.6 + k * 0.05); },
  text() { tone([880], 0.05, 0.08); setTimeout(() => tone([1320], 0.06, 0.08), 70); },
  page() { if (!S.ctx) return; const t = S.ctx.currentTime; tone([660, 880], 0.12, 0.12, t); tone([880, 1100], 0.18, 0.12, t + 0.15); },
};

// ---------- audio ----------
function initAudio() {
  if (!S.audioInit) S.audioInit = setupAudio().catch((e) => { S.audioInit = null; throw e; });
  return S.audioInit.then(() => { if (S.ctx.state !== 'running') return S.ctx.resume().catch(() => {}); });
}

async function setupAudio() {
  const AC = window.AudioContext || window.webkitAudioContext;
  let ctx;
  try { ctx = new AC({sampleRate: 48000, latencyHint: 'interactive'}); } catch (e) { ctx = new AC(); }
  S.ctx = ctx;
  S.out = ctx.createGain();
  S.out.connect(ctx.destination);
  S.tap = ctx.createMediaStreamDestination();   // tests record what the page plays from here
  S.out.connect(S.tap);
  if (window.HarkIntercom) window.HarkIntercom.audioReady();
  if (ctx.audioWorklet) {
    await Promise.all(['play-worklet.js', 'capture-worklet.js', 'record-worklet.js'].map((m) => ctx.audioWorklet.addModule(m)));
    S.play = new AudioWorkletNode(ctx, 'hark-play', {numberOfInputs: 0, outputChannelCount: [1], processorOptions: {inputRate: 48000}});
    S.play.port.onmessage = (e) => {
      if (e.data.stats) S.stats.play = e.data.stats;
      if (e.data.drained) S.stats.drained++;
    };
    S.play.connect(S.out);
    // The capture node is made now, before any press; the microphone is
    // connected to it when it opens (openMic).
    S.capture = new AudioWorkletNode(ctx, 'hark-capture', {numberOfOutputs: 0});
    S.capture.port.onmessage = (e) => onCaptureFrame(e.data);
  } else {
    S.playback = 'wav'; // no worklet: fall back to whole transmissions
  }
  if (ctx.state !== 'running') await ctx.resume().catch(() => {});
  ev('audio', {rate: ctx.sampleRate});
}

// ---------- the microphone ----------
// Policy: the microphone is not opened at login. The first press opens it
// (the browser asks for permission the first time) and it stays open while
// the person keeps talking, so that later presses start at once: opening
// it takes 100 ms or more, and the first words would come late. It is
// closed after S.micIdleMs (5 minutes) without a press, when the page goes
// into the background (once the press in progress ends), at logout, and
// by the "Mic ready ✕" button in the header, which shows while it is open.
// Talking automatically (VOX) keeps it open: that is what it is for.
const MIC_IDLE_MS = 5 * 60 * 1000;

// openMic resolves to the open microphone, opening it if it is not. It
// asks for it at once (within the press's user gesture) and sets up the
// audio context meanwhile.
function openMic() {
  if (S.mic) return Promise.resolve(S.mic);
  if (S.micOpening) return S.micOpening;
  const gen = ++S.micGen;
  const processing = params.get('processing') === 'on';
  const p = (async () => {
    const [stream] = await Promise.all([navigator.mediaDevices.getUserMedia({audio: {
      channelCount: 1, echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing}}), initAudio()]);
    if (gen !== S.micGen) { // turned off while it was opening
      for (const tr of stream.getTracks()) tr.stop();
      const e = new Error('the microphone was turned off');
      e.name = 'HarkMicClosed';
      throw e;
    }
    S.mic = stream;
    S.micGranted = true;
    for (const tr of stream.getAudioTracks()) tr.addEventListener('ended', () => { if (S.mic === stream) closeMic('ended'); });
    if (S.capture) {
      S.capture.port.postMessage({reset: true}); // nothing left over from the last time it was open
      S.micSrc = S.ctx.createMediaStreamSource(stream);
      S.micSrc.connect(S.capture);
    }
    S.stats.micOpens++;
    ev('mic');
    renderMic();
    if (!S.pressed) micUsed(); // the press ended while it opened: the countdown starts now
    return stream;
  })();
  S.micOpening = p;
  p.catch(() => {}).then(() => { if (S.micOpening === p) S.micOpening = null; });
  return p;
}

// closeMic closes the microphone; why is idle, hidden, logout, button or
// ended (the system closed it). A press in progress ends first; talking
// automatically (VOX) is turned off.
function closeMic(why) {
  S.micGen++; // a getUserMedia still under way is closed when it answers
  clearTimeout(S.micIdleTimer);
  const m = S.mic;
  if (!m) return;
  S.mic = null;
  if (S.pressed) stopTalk('mic ' + why);
  if (S.vox) { S.vox = false; S.voxOpen = false; $('vox').checked = false; }
  if (S.micSrc) { try { S.micSrc.disconnect(); } catch (e) { /* gone */ } S.micSrc = null; }
  for (const tr of m.getTracks()) tr.stop();
  ev('micClosed', {why});
  if (why === 'ended') flash('The microphone was closed by the browser or the system (unplugged, or its permission taken back). Press to talk to open it again.', 'warn', 7000);
  renderMic();
}

// micUsed starts the idle countdown after a press; in the background the
// microphone is closed at once.
function micUsed() {
  clearTimeout(S.micIdleTimer);
  if (!S.mic || S.vox) return;
  if (document.visibilityState === 'hidden') { closeMic('hidden'); return; }
  S.micIdleTimer = setTimeout(() => { if (S.mic && !S.pressed && !S.vox) closeMic('idle'); }, S.micIdleMs);
}

// renderMic shows "Mic ready ✕" in the header while the microphone is open.
function renderMic() {
  const b = $('micOff');
  if (b) b.classList.toggle('hidden', !S.mic);
}

// ---------- ready before the first press ----------
// prepareTalk readies, at login, what a press needs that needs no
// permission (the audio context and its worklets are initAudio's): a
// configured Opus encoder, and whether this page may use the microphone
// without asking (then a press asks for the floor while the microphone
// opens; on a first visit the permission prompt comes first).
function prepareTalk() {
  // The page's first tone held its main thread (or audio thread) for
  // 30-130 ms in Chromium: traced at a first press on a quiet machine,
  // where it was the permit tone, and gone with the tones muted. Every
  // frame captured meanwhile reached the listener that much later, for
  // the whole first transmission (its jitter buffer times a new talker
  // from the first packets and does not shrink a start backlog while it
  // learns). A silent tone now takes that cost at login.
  tone([1200], 0.06, 0);
  webcodecsOK().then(() => spareEncoder());
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({name: 'microphone'}).then((st) => {
      const seen = () => { if (st.state === 'granted') S.micGranted = true; };
      seen();
      st.onchange = seen;
    }).catch(() => { /* the browser does not say: the first press waits for the microphone */ });
  }
}

// wallNow is the wall-clock time in milliseconds, with sub-millisecond precision.
function wallNow() { return performance.timeOrigin + performance.now(); }

// The start of a transmission: a frame the page gets more than
// START_STALE_MS after the audio clock passed its end (the microphone has
// just opened, or the page was busy with the press) and that is quiet
// (RMS below START_QUIET, about -46 dBFS: no speech in it) is left out,
// until the first fresh or loud frame, for at most START_SKIP_MAX frames.
// The listener's jitter buffer times the whole transmission from its
// first packet: sent late and followed by the backlog all at once, it
// held the first words that much later (issue 14: the first press of a
// page, 77 ms against 60 ms later). After the first frame sent nothing is
// left out. Counted in stats.startSkipped (frames) and an event.
const START_STALE_MS = 25, START_QUIET = 0.005, START_SKIP_MAX = 25;

function onCaptureFrame(d) {
  const pcm = d.pcm, level = d.level;
  // For delay measurements: the audio clock's offset to the wall clock is the
  // smallest (arrival − end of frame) seen; onsets are kept in context time.
  const off = wallNow() - d.end * 1000;
  if (S.capOff === undefined || off < S.capOff) S.capOff = off;
  if (d.onsets) { S.capOnsets.push(...d.onsets); if (S.capOnsets.length > 100) S.capOnsets.splice(0, S.capOnsets.length - 100); }
  S.stats.capSamples += pcm.length;
  if (S.pressed && !S.onsetAt && level > 0.03) S.onsetAt = Date.now();
  if (S.vox) voxFrame(level, pcm);
  if (!S.sending) return;
  if (!S.txSent) {
    const age = (S.ctx.currentTime - d.end) * 1000;
    if (age > START_STALE_MS && level < START_QUIET && S.txSkipped < START_SKIP_MAX && S.txPath !== 'mediarecorder') {
      S.txSkipped++;
      S.stats.startSkipped++;
      return;
    }
    S.txSent = true;
    if (S.txSkipped) ev('startSkipped', {frames: S.txSkipped, age: Math.round(age)});
  }
  if (S.txPath === 'worklet') sendPCM(pcm);
  else if (S.txPath === 'webcodecs') encodeFrame(pcm);
}

// webcodecsOK resolves to whether this browser encodes Opus with WebCodecs
// (also kept in S.wcOK once known).
let wcCheck = null;
function webcodecsOK() {
  if (!wcCheck) {
    wcCheck = (window.AudioEncoder && window.AudioData
      ? AudioEncoder.isConfigSupported(OPUS_CONFIG).then((r) => !!r.supported).catch(() => false)
      : Promise.resolve(false)).then((ok) => { S.wcOK = ok; return ok; });
  }
  return wcCheck;
}

// newEncoder makes a configured WebCodecs Opus encoder. Its packets go to
// the transmission in progress.
function newEncoder() {
  const enc = new AudioEncoder({
    output: (chunk) => {
      // Header: kind, flags, 2 reserved bytes, u32 LE sequence; then the packet.
      if (S.wt) {
        const p = new Uint8Array(chunk.byteLength);
        chunk.copyTo(p);
        if (S.wt.sendOpus(p, chunk.duration ? Math.round(chunk.duration * 48 / 1000) : 960)) S.stats.sentFrames++;
        return;
      }
      const b = new Uint8Array(8 + chunk.byteLength);
      b[0] = BIN_OPUS;
      new DataView(b.buffer).setUint32(4, S.seq++, true);
      chunk.copyTo(b.subarray(8));
      if (S.ws && S.ws.readyState === WebSocket.OPEN && S.ws.bufferedAmount < 256 * 1024) { S.ws.send(b); S.stats.sentFrames++; }
    },
    error: (e) => {
      ev('encError', {err: String(e)});
      if (S.encSpare === enc) { S.encSpare = null; return; } // a spare (e.g. reclaimed by the browser): made again when needed
      flash('The audio encoder failed: ' + (e.message || e), '', 6000);
    },
  });
  enc.configure(OPUS_CONFIG);
  return enc;
}
// spareEncoder keeps a configured encoder ready for the next press:
// configuring one at the press delayed the first packet (27 ms median).
function spareEncoder() {
  if (S.encSpare || !S.wcOK || !S.ctx || S.ctx.sampleRate !== 48000) return;
  try { S.encSpare = newEncoder(); } catch (e) { ev('encError', {err: String(e)}); }
}
// startEncoder gives the press the spare encoder (or a new one).
function startEncoder() {
  let enc = S.encSpare;
  S.encSpare = null;
  if (!enc || enc.state !== 'configured') enc = newEncoder();
  S.enc = enc;
  S.encTs = 0;
}
function encodeFrame(pcm) {
  if (!S.enc || S.enc.state !== 'configured') return;
  const rate = S.ctx.sampleRate;
  const ad = new AudioData({format: 's16', sampleRate: rate, numberOfFrames: pcm.length, numberOfChannels: 1, timestamp: S.encTs, data: pcm});
  S.encTs += pcm.length * 1e6 / rate;
  S.enc.encode(ad);
  ad.close();
}
function closeEncoder() {
  if (!S.enc) return;
  try { S.enc.close(); } catch (e) { /* already closed */ }
  S.enc = null;
  spareEncoder();
}
function sendPCM(pcm) {
  // Header: kind, flags, 2 reserved bytes, u32 LE sequence; then int16 LE samples.
  const b = new Uint8Array(8 + pcm.byteLength);
  const dv = new DataView(b.buffer);
  b[0] = BIN_PCM;
  dv.setUint32(4, S.seq++, true);
  b.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), 8);
  if (S.ws && S.ws.readyState === WebSocket.OPEN && S.ws.bufferedAmount < 256 * 1024) { S.ws.send(b); S.stats.sentFrames++; }
}

function voxFrame(level, pcm) {
  const on = level > 0.02;
  if (!S.voxOpen) {
    S.preroll.push(pcm); if (S.preroll.length > 5) S.preroll.shift();
    S.voxLoud = on ? S.voxLoud + 1 : 0;
    if (S.voxLoud >= 2 && S.floor !== 'busy') {
      S.voxOpen = true; S.voxQuiet = 0;
      startTalk('vox').then(() => {
        if (S.sending) {
          S.txSent = true; // the pre-roll is the start: nothing after it is left out
          for (const p of S.preroll) { if (S.txPath === 'worklet') sendPCM(p); else if (S.txPath === 'webcodecs') encodeFrame(p); }
        }
        S.preroll = [];
      });
    }
  } else {
    S.voxQuiet = on ? 0 : S.voxQuiet + 1;
    if (S.voxQuiet * FRAME_MS >= 800) { S.voxOpen = false; stopTalk('vox'); }
  }
}

// Playback of what the gateway sends.
function onBinary(buf) {
  const b = new Uint8Array(buf);
  if (b.length < 8) return;
  S.stats.recvBytes += b.length;
  const flags = b[1], talker = new DataView(buf).getUint32(4, true);
  if (b[0] === BIN_PCM) {
    S.stats.recvFrames++;
    const pcm = new Int16Array(buf.slice(8));
    // The channel the audio comes from (a heard channel has its own volume).
    const ch = new DataView(buf).getUint16(2, true);
    S.stats.recvByChannel[ch] = (S.stats.recvByChannel[ch] || 0) + 1;
    if (window.HarkIntercom && !HarkIntercom.scale(talker, pcm)) { S.stats.mutedFrames++; return; } // this person is muted here
    const g = window.HarkListen ? window.HarkListen.gain(ch) : 1;
    if (g !== 1) for (let i = 0; i < pcm.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i] * g)));
    if (S.play) S.play.port.postMessage({pcm, talker, flags}, [pcm.buffer]);
  } else if (b[0] === BIN_WAV) {
    S.stats.wavBlobs++;
    const g = window.HarkIntercom ? HarkIntercom.gainOfTalker(talker) : 1;
    if (g === 0) { S.stats.mutedFrames++; return; }
    playWAV(buf.slice(8), g);
  }
}
async function playWAV(ab, gain) {
  if (!S.ctx) return;
  try {
    const audio = await S.ctx.decodeAudioData(ab);
    const src = S.ctx.createBufferSource();
    src.buffer = audio;
    if (gain !== undefined && gain !== 1) {
      const g = S.ctx.createGain();
      g.gain.value = gain;
      src.connect(g).connect(S.out);
    } else src.connect(S.out);
    src.onended = () => { S.stats.wavPlayed = (S.stats.wavPlayed || 0) + 1; };
    src.start();
  } catch (e) { ev('wavError', {err: String(e)}); }
}

// ---------- talking ----------
async function startTalk(source, page, echo, to) {
  if (S.pressed) return;
  S.pressed = true;
  S.pageTx = !!page;
  S.callTo = to || ''; // a call: only they hear it (listen.js; "bob", "bob,carol", "role:page")
  S.echoTx = !!echo; // a microphone test: the intercom plays it back to this page alone
  S.onsetAt = 0;
  clearTimeout(S.micIdleTimer);
  ev('press', {source});
  // The microphone is asked for at once, within the press (it is open
  // already after an earlier press); nothing below waits for it that need not.
  const mic = openMic();
  mic.catch(() => {}); // answered below
  let path = '', mime = '', began = false;
  try {
    if (!S.ctx || S.wcOK === undefined) await Promise.all([initAudio(), webcodecsOK()]);
    if (!S.pressed) return; // released meanwhile
    const p = choosePath();
    if (p.error) { S.pressed = false; flash(p.error, '', 7000); ev(p.event, p.detail); render(); return; }
    path = p.path; mime = p.mime;
    // The floor is asked for while the microphone opens where no prompt will
    // show (the page has it, or may open it without asking); on a first
    // visit the person answers the prompt first, holding nothing.
    if (path !== 'mediarecorder' && (S.mic || S.micGranted)) { beginTx(path, mime); began = true; }
    await mic;
  } catch (e) {
    const was = S.pressed;
    S.pressed = false;
    if (began && was) { stopSending(); send({t: 'talk', on: false}); S.floor = 'idle'; }
    if (e.name !== 'HarkMicClosed') flash('The microphone is not available: ' + (e.message || e.name || e) + '. Allow this page to use it (the icon in the address bar) and press again.', '', 7000);
    ev('micError', {err: String(e)});
    render();
    return;
  }
  if (!S.pressed || began) return; // released while the microphone was opening (stopTalk ended it), or under way
  beginTx(path, mime);
}

// choosePath decides how this press sends audio: {path, mime}, or
// {error} in words (and the event the tests look for).
function choosePath() {
  let path = S.path;
  if (path === 'webcodecs' && !(S.ctx.sampleRate === 48000 && S.wcOK)) path = 'worklet';
  if (path === 'worklet' && !S.ctx.audioWorklet) path = 'mediarecorder'; // no AudioWorklet: the recorder
  if (S.wt && path !== 'webcodecs') {
    // WebTransport carries the page's Opus packets only.
    if (S.ctx.sampleRate !== 48000) {
      return {error: 'Cannot talk over WebTransport with audio at ' + S.ctx.sampleRate + ' Hz. Open the page with ?transport=websocket.',
        event: 'wtNoEncoder', detail: {rate: S.ctx.sampleRate}};
    }
    path = 'webcodecs';
  }
  // The recorder: WebM or Ogg (Chromium, Firefox) or Opus in MP4 (Safari);
  // a browser that records only AAC (older Safari) sends live PCM instead.
  const mime = path === 'mediarecorder' && ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4;codecs=opus', 'audio/webm']
    .find((m) => window.MediaRecorder && MediaRecorder.isTypeSupported(m));
  if (path === 'mediarecorder' && !mime && S.ctx.audioWorklet) { path = 'worklet'; ev('mrFallback'); }
  if (path === 'mediarecorder' && !mime) {
    return {error: 'This browser cannot record audio in a form the intercom takes. Try another browser.', event: 'mrUnsupported'};
  }
  return {path, mime: mime || ''};
}

// beginTx asks for the floor and starts sending the press's audio on path.
function beginTx(path, mime) {
  S.txPath = path;
  S.txSent = false;
  S.txSkipped = 0;
  S.floor = 'requesting';
  if (path === 'mediarecorder') {
    send({t: 'talk', on: true, format: mime.includes('ogg') ? 'ogg' : mime.includes('mp4') ? 'mp4' : 'webm', page: S.pageTx, echo: S.echoTx, to: S.callTo});
    S.sending = true;
    const rec = new MediaRecorder(S.mic, {mimeType: mime, audioBitsPerSecond: 48000});
    S.mr = rec;
    rec.ondataavailable = (e) => {
      if (!e.data || !e.data.size) return;
      // Keep the chunks in order: each waits for the previous one's bytes.
      const blob = e.data;
      S.mrChain = S.mrChain.then(() => blob.arrayBuffer()).then((ab) => sendBin(BIN_MEDIA, new Uint8Array(ab)));
    };
    rec.onstop = () => { S.mrChain = S.mrChain.then(() => { send({t: 'talk', on: false}); S.sending = false; }); };
    rec.start(20);
  } else if (path === 'webcodecs') {
    startEncoder();
    send({t: 'talk', on: true, format: 'opus', page: S.pageTx, echo: S.echoTx, to: S.callTo});
    S.sending = true;
  } else {
    send({t: 'talk', on: true, format: 'pcm', rate: S.ctx.sampleRate, page: S.pageTx, echo: S.echoTx, to: S.callTo});
    S.sending = true;
  }
  render();
}

function stopTalk(source) {
  if (!S.pressed) return;
  S.pressed = false;
  ev('release', {source});
  if (S.mr) { const r = S.mr; S.mr = null; if (r.state !== 'inactive') r.stop(); }
  else if (S.enc) {
    // The last packets come out of flush; the release follows them.
    const enc = S.enc;
    S.enc = null; S.sending = false;
    enc.flush().catch(() => {}).then(() => { send({t: 'talk', on: false}); try { enc.close(); } catch (e) { /* closed */ } spareEncoder(); });
  } else if (S.sending) { S.sending = false; send({t: 'talk', on: false}); }
  else if (blocked()) send({t: 'talk', on: false}); // the gateway's floor goes back to idle
  if (S.floor === 'talking') sounds.release();
  if (S.floor === 'requesting') S.floor = 'releasing'; // the gateway says when it is over
  else if (S.floor !== 'busy') S.floor = 'idle';
  micUsed();
  render();
}

// blocked: the press was refused or cut; nothing is sent until the release.
function blocked() { return S.floor === 'busy' || S.floor === 'refused' || S.floor === 'cut'; }

// stopSending stops the recorder or encoder of a refused or cut press.
function stopSending() {
  S.sending = false;
  if (S.mr) { const r = S.mr; S.mr = null; r.ondataavailable = null; r.onstop = null; if (r.state !== 'inactive') r.stop(); }
  closeEncoder();
}

// megabytes says a byte count in words.
function megabytes(n) { return n >= 1e6 ? (n / 1e6).toFixed(1).replace(/\.0$/, '') + ' MB' : Math.ceil(n / 1e3) + ' kB'; }

async function sendClip(file) {
  if (!file) return;
  // The gateway's own limit (from the welcome); one byte of the message is its kind.
  const limit = (S.maxClip || 10 * 1024 * 1024) - 1;
  if (file.size > limit) {
    flash('That clip is too large: this intercom takes clips of up to ' + megabytes(limit) + ', and "' + file.name + '" is ' +
      megabytes(file.size) + '. Send a shorter clip, or a mono one at a lower sample rate.', '', 8000);
    ev('clipTooLarge', {size: file.size, limit});
    return;
  }
  await initAudio();
  const ab = await file.arrayBuffer();
  sendBin(BIN_WAV, new Uint8Array(ab));
  addLog('sys', '', 'Sending clip "' + file.name + '"…');
}

// ---------- rendering ----------
function render() {
  const ptt = $('ptt');
  const talking = S.pressed && !S.pageTx;
  ptt.classList.toggle('live', talking && S.floor === 'talking');
  ptt.classList.toggle('waiting', talking && S.floor === 'requesting');
  ptt.classList.toggle('busy', blocked() && !S.pageTx);
  const label = ptt.querySelector('.ptt-label');
  ptt.classList.toggle('listenonly', !!S.listenOnly && !talking);
  label.textContent = S.reconnecting ? 'Offline' : S.floor === 'busy' && !S.pageTx ? 'Busy' : talking && S.floor === 'cut' ? 'Cut off' :
    talking && S.floor === 'refused' ? 'Not now' : talking ? (S.floor === 'talking' ? 'Talking…' : 'Wait…') : S.listenOnly ? 'Listen only' : 'Hold to talk';
  const hint = ptt.querySelector('.ptt-hint');
  const holder = [...S.talkers.values()].map((t) => t.name)[0];
  const keys = !S.reconnecting && !(S.floor === 'busy' && !S.pageTx) && !talking;
  hint.textContent = S.reconnecting ? 'you can talk again once reconnected' : S.floor === 'busy' && !S.pageTx ? ('wait until ' + (holder || 'the talker') + ' finishes') :
    talking && blocked() ? 'release, then try again' : talking ? 'release to stop' : S.listenOnly ? 'only some people may talk in ' + S.channel : 'or hold the space bar';
  hint.classList.toggle('keys', keys); // the space bar hint is hidden on touch screens

  const pg = $('page');
  pg.classList.toggle('hidden', !S.roles.includes('page'));
  const paging = S.pressed && S.pageTx;
  pg.classList.toggle('live', paging && S.floor === 'talking');
  pg.classList.toggle('waiting', paging && S.floor === 'requesting');
  pg.textContent = paging ? (S.floor === 'talking' ? 'Paging everyone…' : S.floor === 'busy' ? 'Busy' : blocked() ? 'Not now' : 'Wait…') : 'Hold to page all';

  const air = $('air');
  const others = [...S.talkers.entries()].filter(([id]) => !S.me || id !== S.me.session).map(([, t]) => t);
  air.className = 'air';
  if (S.pressed && S.floor === 'talking') { air.textContent = S.pageTx ? 'You are paging everyone' : S.callTo ? HarkListen.onlyHear(S.callTo) : 'You are on the air'; air.classList.add(S.pageTx ? 'paging' : 'me'); }
  else if (others.length) {
    air.textContent = others.map((t) => t.name).join(', ') + (others.length > 1 ? ' are' : ' is') + (others.some((t) => t.priority) ? ' paging everyone' : ' talking');
    air.classList.add(S.floor === 'busy' ? 'busy' : others.some((t) => t.priority) ? 'paging' : 'talking');
  } else if (S.reconnecting) air.textContent = 'Offline: waiting for the intercom';
  else air.textContent = S.channel ? 'Channel ' + S.channel + ' is quiet' : 'Not in a channel';

  const ul = $('users');
  ul.textContent = '';
  const here = S.users.filter((u) => u.channel === S.channel);
  const elsewhere = S.users.filter((u) => u.channel !== S.channel);
  for (const u of [...here, ...elsewhere]) {
    const li = document.createElement('li');
    li.textContent = u.name + (u.channel !== S.channel ? ' (' + (u.channel || 'no channel') + ')' : '');
    if (u.channel !== S.channel) li.classList.add('elsewhere');
    if (S.talkers.has(u.id) || u.talking) li.classList.add('talking');
    if (S.me && u.id === S.me.session) li.classList.add('self');
    li.dataset.name = u.name;
    if (!(S.me && u.id === S.me.session)) li.title = 'Hold to talk to ' + u.name + ' alone';
    if (window.HarkListen) HarkListen.decorateUser(li, u);
    if (window.HarkIntercom) HarkIntercom.decorateUser(li, u);
    ul.appendChild(li);
  }
  $('count').textContent = '(' + here.length + ' here, ' + S.users.length + ' online)';

  const to = $('to'), cur = to.value;
  to.textContent = '';
  const all = document.createElement('option'); all.value = ''; all.textContent = 'Everyone'; to.appendChild(all);
  for (const u of S.users) {
    if (S.me && u.id === S.me.session) continue;
    const o = document.createElement('option'); o.value = u.name; o.textContent = 'Only ' + u.name; to.appendChild(o);
  }
  to.value = [...to.options].some((o) => o.value === cur) ? cur : '';
  if (window.HarkListen) window.HarkListen.render();
}

function renderChannels() {
  const sel = $('channel');
  sel.textContent = '';
  for (const c of S.channels) {
    const o = document.createElement('option');
    o.value = c.name;
    o.textContent = '# ' + c.name + (c.mode === 'open' ? ' (open)' : '') + (c.closed ? ' (closed to you)' : c.listen_only ? ' (listen only)' : '');
    o.disabled = !!c.closed && c.name !== S.channel;
    sel.appendChild(o);
  }
  sel.value = S.channel;
}

function setConn(state, text) {
  const c = $('conn');
  c.className = 'conn ' + (state === 'ok' ? 'ok' : state === 'wait' ? 'wait' : 'bad');
  c.title = text || state;
  S.reconnecting = state !== 'ok';
  $('app').classList.toggle('offline', S.reconnecting);
  if (state === 'ok') banner('');
  else banner(text, state === 'wait' ? 'warn' : '');
  render();
  emit('conn', {ok: state === 'ok', text: text || ''});
}

// showTransport says in the header which path the page uses.
function showTransport() {
  const t = $('transport');
  if (!t) return;
  t.textContent = S.transport === 'webtransport' ? 'WebTransport' : S.transport === 'websocket' ? 'WebSocket' : '';
  t.title = S.transport === 'webtransport' ? 'Voice goes straight to the intercom server over QUIC (WebTransport)'
    : 'Voice goes through the web gateway over a websocket';
}

// onPCM plays 20 ms of a talker decoded from WebTransport.
function onPCM(pcm, talker, flags) {
  S.stats.recvFrames++;
  S.stats.recvBytes += pcm.byteLength;
  if (S.play) S.play.port.postMessage({pcm, talker, flags}, [pcm.buffer]);
}

// ---------- connection: WebTransport raced against the websocket ----------
async function connect() {
  clearTimeout(S.retryTimer);
  const gen = ++S.connGen;
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  // The websocket opens at once, so that it is ready if WebTransport loses.
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  S.ws = ws;
  S.transport = '';
  S.wsWelcomed = false; // until this websocket's welcome
  let useWS = false, deadClose = null;
  const loginWS = (why) => {
    if (gen !== S.connGen) return;
    useWS = true;
    S.transport = 'websocket';
    showTransport();
    ev('transport', {use: 'websocket', why});
    if (deadClose) { ws.onclose(deadClose); return; }
    if (ws.readyState === WebSocket.OPEN) send(Object.assign({t: 'login', playback: S.playback}, S.creds));
  };
  ws.onopen = () => {
    if (useWS) send(Object.assign({t: 'login', playback: S.playback}, S.creds));
  };
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') { onBinary(e.data); return; }
    let m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    onMessage(m);
  };
  ws.onclose = (e) => {
    if (S.ws !== ws) return;
    if (!useWS) { deadClose = e; return; } // WebTransport may still win; else loginWS reports it
    S.ws = null;
    if (S.sending) { S.sending = false; }
    closeEncoder();
    S.talkers.clear();
    if (!S.wantOnline) return;
    if (!S.loggedIn) {
      // Never got in: do not hammer the gateway with a bad login.
      $('loginError').textContent = e.reason || 'Could not reach the intercom. Check the address and try again.';
      showLogin();
      return;
    }
    const wait = Math.min(10000, 500 * Math.pow(2, S.retry++));
    // Say why when the gateway did (it is restarting, or cannot log in
    // to the intercom server): a bare "lost" would hide what to do.
    setConn('wait', S.closeText || 'Connection to the intercom lost. Reconnecting…');
    ev('reconnecting', {wait});
    S.retryTimer = setTimeout(connect, wait);
  };

  if (params.get('transport') === 'websocket') { loginWS('asked'); return; }
  if (!window.HarkWT || !(await window.HarkWT.available()) || !(await webcodecsOK())) { loginWS('missing'); return; }
  let conn = null;
  try {
    const r = await fetch('webtransport', {cache: 'no-store'});
    const info = await r.json();
    if (!r.ok) throw new Error(info.error || 'no WebTransport');
    conn = await window.HarkWT.connect(info, Object.assign({ticket: S.wtTicket}, S.creds), {
      onReady: (c) => { if (gen === S.connGen) { S.wt = c; S.transport = 'webtransport'; } },
      onMessage: (m) => { if (S.wt === conn || !conn) onMessage(m); },
      onPCM: (pcm, talker, flags) => { if (S.wt === conn || !conn) onPCM(pcm, talker, flags); },
      onClose: (text) => wtClosed(conn, text),
    }, WT_WAIT_MS);
  } catch (e) {
    if (S.wt && S.connGen === gen) S.wt = null;
    const why = String(e && e.message ? e.message : e);
    if (gen === S.connGen && S.lastTransport === 'webtransport' && S.wtFails < 3 && S.wantOnline) {
      // It worked before: most likely the relay is restarting, and the
      // websocket would not get through either. Try again a few times
      // before settling for the websocket.
      S.wtFails++;
      S.ws = null;
      ws.close(1000, 'retrying WebTransport');
      const wait = Math.min(10000, 500 * Math.pow(2, S.retry++));
      setConn('wait', S.closeText || 'The intercom is not reachable. Reconnecting…');
      ev('reconnecting', {wait, transport: 'webtransport', why});
      S.retryTimer = setTimeout(connect, wait);
      return;
    }
    S.lastTransport = 'websocket';
    loginWS(why);
    return;
  }
  if (gen !== S.connGen) { conn.close(); return; }
  S.wt = conn;
  S.wtTicket = conn.ticket();
  S.lastTransport = 'webtransport';
  S.wtFails = 0;
  S.ws = null;
  ws.close(1000, 'using WebTransport');
  showTransport();
  ev('transport', {use: 'webtransport'});
}

// wtClosed handles the end of a WebTransport session: reconnect (racing
// again) unless the user logged out or the relay said goodbye for good.
function wtClosed(conn, text) {
  if (!conn || S.wt !== conn) return;
  S.wtTicket = conn.ticket() || S.wtTicket;
  S.wt = null;
  S.sending = false;
  closeEncoder();
  S.talkers.clear();
  if (S.play) S.play.port.postMessage({reset: true});
  if (!S.wantOnline) return;
  const wait = Math.min(10000, 500 * Math.pow(2, S.retry++));
  setConn('wait', S.closeText || 'Connection to the intercom lost (' + text + '). Reconnecting…');
  ev('reconnecting', {wait, transport: 'webtransport'});
  S.retryTimer = setTimeout(connect, wait);
}

function onMessage(m) {
  ev('msg', {t: m.t});
  if (window.HarkHistory) window.HarkHistory.onMessage(m); // history.js: timeline, missed, replays
  if (window.HarkIntercom) window.HarkIntercom.onMessage(m); // intercom.js: alarms, sound off
  if (window.HarkListen) window.HarkListen.onMessage(m); // listen.js: heard channels, calls
  switch (m.t) {
  case 'welcome':
    S.loggedIn = true; S.retry = 0; S.closeText = ''; S.wsWelcomed = true;
    S.me = {session: m.session, name: m.name};
    S.roles = m.roles || [];
    S.maxClip = m.max_clip_bytes || 0;
    $('clipLimit').textContent = S.maxClip ? ', up to ' + megabytes(S.maxClip - 1) : '';
    S.channels = m.channels || [];
    $('me').textContent = m.name;
    showApp();
    setConn('ok');
    emit('welcome', {name: m.name});
    break;
  case 'joined':
    if (S.channel !== m.channel) addLog('sys', '', 'Joined channel ' + m.channel);
    else if (!!S.listenOnly !== !!m.listen_only) addLog('sys', '', m.listen_only ? 'You may only listen in ' + m.channel + ' now (an admin changed its rules).' : 'You may talk in ' + m.channel + ' again.');
    S.channel = m.channel;
    S.listenOnly = !!m.listen_only;
    for (const c of S.channels) if (c.name === m.channel) c.listen_only = S.listenOnly;
    S.talkers.clear();
    renderChannels();
    break;
  case 'presence':
    S.users = m.users || [];
    for (const u of S.users) if (u.talking && u.channel === S.channel) S.talkers.set(u.id, {name: u.name});
    break;
  case 'user': {
    const u = m.user;
    S.users = S.users.filter((x) => x.id !== u.id);
    if (m.kind !== 'offline') S.users.push(u);
    S.users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (m.kind === 'offline') S.talkers.delete(u.id);
    break;
  }
  case 'talking':
    if (m.monitored) { // a heard channel (listen.js): not our floor
      if (!m.on && S.play) S.play.port.postMessage({end: m.id});
      break;
    }
    if (m.on) S.talkers.set(m.id, {name: m.name, priority: m.priority});
    else {
      S.talkers.delete(m.id);
      if (S.play) S.play.port.postMessage({end: m.id}); // play out what is left
      if (S.floor === 'busy' && !S.pressed && S.talkers.size === 0) { S.floor = 'idle'; banner(''); }
    }
    break;
  case 'floor': // the gateway's client.Floor changed (m.state is its name)
    if (m.state === 'cut') {
      // Cut on the air: a page, the maximum length, a lost link (the
      // error message that follows says which).
      if (S.pressed) { S.floor = 'cut'; stopSending(); } else S.floor = 'idle';
      ev('cut', {cause: m.cause});
    } else if (m.granted) {
      // Granted: talking; or, released before the answer, the held words
      // went out and the floor is idle again.
      if (S.pressed && m.state !== 'idle') { S.floor = 'talking'; sounds.permit(); } else S.floor = 'idle';
    } else {
      if (S.pressed) { S.floor = 'refused'; stopSending(); } else S.floor = 'idle';
      if (m.text) flash(m.text, 'warn', 4000);
    }
    break;
  case 'busy':
    S.floor = 'busy';
    stopSending();
    banner(m.text || ((m.holder || 'Someone') + ' is talking. Wait until they finish.'));
    sounds.busy();
    ev('busy', {holder: m.holder});
    setTimeout(() => { if (S.floor === 'busy') { S.floor = 'idle'; if (!S.reconnecting) banner(''); render(); } }, 2500);
    break;
  case 'text': {
    const priv = !!m.to;
    addLog(priv ? 'private' : '', m.from + (priv ? ' → ' + m.to : '') + ': ', m.text, m.time);
    if (!S.me || m.from !== S.me.name) sounds.text();
    emit('text', {from: m.from, to: m.to || '', text: m.text, mine: mine(m.from)});
    break;
  }
  case 'ring':
    if (m.alarm) break; // intercom.js shows and sounds alarms
    addLog('ringmsg', m.from, ' rang everyone' + (m.text ? ': ' + m.text : ''), m.time);
    flash(m.from + ' is ringing everyone', 'info', 4000);
    sounds.ring();
    emit('ring', {from: m.from, text: m.text || '', mine: mine(m.from)});
    break;
  case 'page':
    addLog('sys', '', m.from + (m.on ? ' started a page to all channels' : ' ended the page'));
    S.pageFrom = m.on ? m.from : '';
    if (m.on && (!S.me || m.from !== S.me.name)) sounds.page();
    if (!S.reconnecting) banner('');
    ev('page', {from: m.from, on: m.on});
    emit('page', {from: m.from, on: !!m.on, mine: mine(m.from)});
    break;
  case 'clip':
    addLog('sys', '', m.text);
    break;
  case 'state':
    if (m.state === 'connected') setConn('ok');
    else setConn('wait', m.text || 'The intercom is reconnecting…');
    break;
  case 'error':
    if (!S.loggedIn || m.code === 'auth') {
      // Refused at login, also when logging in again after a lost
      // connection (the password was changed): back to the login form,
      // not a retry loop with the old password.
      S.wantOnline = false;
      if (S.loggedIn) { S.loggedIn = false; showLogin(); }
      $('loginError').textContent = m.text;
    } else flash(m.text, '', 6000);
    if (S.loggedIn && !S.wsWelcomed) S.closeText = m.text; // logging in again was refused: shown while retrying
    ev('error', {code: m.code, text: m.text});
    break;
  case 'bye':
    S.wantOnline = m.code === 'shutdown';
    if (!S.wantOnline) { S.loggedIn = false; $('loginError').textContent = m.text; showLogin(); }
    else { S.closeText = m.text; setConn('wait', m.text); }
    ev('bye', {code: m.code, text: m.text});
    break;
  }
  render();
}

function showApp() { $('login').classList.add('hidden'); $('app').classList.remove('hidden'); render(); }
function showLogin() { $('app').classList.add('hidden'); $('login').classList.remove('hidden'); setConn('ok'); emit('logout'); }

// ---------- input ----------
// hold makes el a hold-to-talk control (the talk and page buttons, a name,
// the group call): down(e) on the press (false: not a press of it), up()
// on the release, however it ends (the pointer stays with el meanwhile).
function hold(el, down, up) {
  el.addEventListener('pointerdown', (e) => {
    if (down(e) === false) return;
    e.preventDefault();
    try { el.setPointerCapture(e.pointerId); } catch (_) { /* not capturable */ }
  });
  for (const t of ['pointerup', 'pointercancel', 'lostpointercapture']) el.addEventListener(t, up);
  el.addEventListener('contextmenu', (e) => e.preventDefault());
}

function bindPTT() {
  hold($('ptt'), () => { startTalk('button'); }, () => { if (!S.pageTx) stopTalk('button'); });
  const typing = () => { const a = document.activeElement; return a && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT'); };
  window.addEventListener('keydown', (e) => {
    if (e.code !== 'Space' || typing() || !S.loggedIn) return;
    e.preventDefault();
    if (!e.repeat) startTalk('space');
  });
  window.addEventListener('keyup', (e) => { if (e.code === 'Space' && !typing()) { e.preventDefault(); if (!S.pageTx) stopTalk('space'); } });
  window.addEventListener('blur', () => { if (S.pressed && !S.voxOpen) stopTalk('blur'); });
  hold($('page'), () => { startTalk('page', true); }, () => { if (S.pageTx) stopTalk('page'); });
}

function init() {
  // history.js gets what it needs of this file (and nothing else).
  if (window.HarkHistory) window.HarkHistory.init({S, send, addLog, flash, hhmm, initAudio, render});
  if (window.HarkIntercom) window.HarkIntercom.init({S, send, addLog, flash, tone, initAudio, render, startTalk, stopTalk});
  if (window.HarkListen) window.HarkListen.init({S, send, addLog, flash, tone, initAudio, render, startTalk, stopTalk, hold});
  const stored = (() => { try { return localStorage.getItem('hark.name') || ''; } catch (e) { return ''; } })();
  $('name').value = params.get('name') || stored;
  $('path').value = S.path;
  $('loginForm').addEventListener('submit', (e) => {
    e.preventDefault();
    login($('name').value.trim(), $('password').value);
  });
  $('channel').addEventListener('change', (e) => send({t: 'join', channel: e.target.value}));
  $('textForm').addEventListener('submit', (e) => {
    e.preventDefault();
    let text = $('text').value.trim(), to = $('to').value;
    // "@name message" writes privately, also to someone who is offline
    // (a relay with history keeps it for them).
    const at = /^@(\S+)\s+([\s\S]+)$/.exec(text);
    if (at) { to = at[1]; text = at[2]; }
    if (!text) return;
    send({t: 'text', text, to});
    $('text').value = '';
  });
  $('ring').addEventListener('click', () => { initAudio(); send({t: 'ring'}); });
  $('menuBtn').addEventListener('click', () => {
    const m = $('menu'); m.classList.toggle('hidden');
    $('menuBtn').setAttribute('aria-expanded', String(!m.classList.contains('hidden')));
  });
  $('vox').addEventListener('change', async (e) => {
    S.vox = e.target.checked;
    if (S.vox) { await openMic().catch((err) => flash('The microphone is not available: ' + err.message)); }
    else { if (S.voxOpen) { S.voxOpen = false; stopTalk('vox'); } micUsed(); }
  });
  $('path').addEventListener('change', (e) => { S.path = e.target.value; });
  $('clip').addEventListener('change', (e) => { sendClip(e.target.files[0]); e.target.value = ''; });
  $('logout').addEventListener('click', () => {
    S.wantOnline = false; S.loggedIn = false; S.connGen++;
    if (S.ws) S.ws.close(1000, 'logout');
    if (S.wt) { const c = S.wt; S.wt = null; c.close(); }
    S.wtTicket = null; S.lastTransport = ''; S.wtFails = 0;
    closeMic('logout');
    showLogin();
  });
  $('micOff').addEventListener('click', () => closeMic('button'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && !S.pressed && !S.vox) closeMic('hidden');
  });
  S.micIdleMs = MIC_IDLE_MS;
  bindPTT();
}

async function login(name, password) {
  if (!name) return;
  $('loginError').textContent = '';
  try { localStorage.setItem('hark.name', name); } catch (e) { /* private mode */ }
  S.creds = {name, password, channel: params.get('channel') || ''};
  S.wantOnline = true;
  initAudio().then(prepareTalk).catch((e) => ev('audioError', {err: String(e)}));
  connect();
}

// ---------- for pwa.js: the headset button talks ----------
window.harkApp = {
  talk: (on, source) => (on ? startTalk(source || 'headset') : stopTalk(source || 'headset')),
  pressed: () => S.pressed,
};

// ---------- test hooks ----------
window.harkTest = {
  state: () => ({loggedIn: S.loggedIn, channel: S.channel, floor: S.floor, pressed: S.pressed, sending: S.sending,
    users: S.users, talkers: [...S.talkers.values()].map((t) => t.name), stats: S.stats, path: S.path, txPath: S.txPath,
    rate: S.ctx && S.ctx.sampleRate, ctxState: S.ctx && S.ctx.state, transport: S.transport, conn: $('conn').className, onsetAt: S.onsetAt || 0,
    mic: !!S.mic}),
  // micIdle sets how long the microphone stays open after a press (ms).
  micIdle: (ms) => { S.micIdleMs = ms; },
  // Not in state(), which tests ask many times a second: Firefox answers
  // outputLatency (and getOutputTimestamp) from its audio server while its
  // audio graph waits, and the page can hang for good (engines_test.go).
  latency: () => ({base: S.ctx && S.ctx.baseLatency, output: S.ctx && S.ctx.outputLatency}),
  events: () => S.log,
  // Wall-clock times (ms) of the sound onsets the capture worklet saw.
  captureOnsets: () => S.capOnsets.map((t) => t * 1000 + S.capOff),
  press: () => startTalk('test'),
  // mute turns the notification sounds off (tests that record the page's output).
  mute: () => { S.muted = true; },
  // send puts any message on the websocket (tests of what the gateway refuses).
  send: (obj) => send(obj),
  // login fills in and submits the login form (a password never goes in the URL).
  login: (name, password) => { $('name').value = name; $('password').value = password || ''; $('loginForm').requestSubmit(); },
  release: () => stopTalk('test'),
  // Record what the page plays (from the MediaStreamAudioDestinationNode tap).
  async startRecording() {
    await initAudio();
    if (!S.recorder) {
      S.recorder = new AudioWorkletNode(S.ctx, 'hark-record', {numberOfInputs: 2, numberOfOutputs: 0});
      S.ctx.createMediaStreamSource(S.tap.stream).connect(S.recorder, 0, 0);
      S.out.connect(S.recorder, 0, 1);
    }
    S.recorder.port.postMessage({start: true});
    return {ctxTime: S.ctx.currentTime, wall: Date.now()};
  },
  // Returns the recording as base64 int16 LE mono at the context rate, and the
  // wall-clock time (ms) of its first audible sample (-1 if silent, or
  // without {wall: true}: see latency).
  stopRecording(opts) {
    return new Promise((resolve) => {
      S.recorder.port.onmessage = (e) => {
        const {chunks, firstLoud, rate, onsets, tapOnsets} = e.data;
        let n = 0; for (const c of chunks) n += c.length;
        const pcm = new Int16Array(n);
        let k = 0;
        for (const c of chunks) for (let i = 0; i < c.length; i++) { const v = Math.max(-1, Math.min(1, c[i])); pcm[k++] = v * 32767; }
        const bytes = new Uint8Array(pcm.buffer);
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
        const ts = opts && opts.wall && S.ctx.getOutputTimestamp ? S.ctx.getOutputTimestamp() : null;
        // Context time → the wall-clock time the output device plays it.
        const wall = (t) => (ts && ts.contextTime !== undefined ? performance.timeOrigin + ts.performanceTime + (t - ts.contextTime) * 1000 : -1);
        resolve({pcm: btoa(s), rate, samples: n, firstLoudWall: firstLoud >= 0 ? wall(firstLoud) : -1,
          onsetWalls: onsets.map(wall), tapOnsetWalls: tapOnsets.map(wall)});
      };
      S.recorder.port.postMessage({stop: true});
    });
  },
};

init();
})();
