// Hark web client over WebTransport: the page speaks the relay's own
// protocol (package proto) straight to the relay's UDP port, without the
// gateway in the voice path. app.js uses it like its websocket: it sends the
// same JSON-shaped requests (join, talk, text, ring, ping) and receives the
// same JSON-shaped messages (welcome, joined, presence, user, talking,
// floor, busy, call, text, ring, page, error, bye) and PCM frames per talker, so
// the page itself does not care which path it is on. What only the gateway
// offers (history, replays, alarms, clips, the microphone test, WAV
// playback) is not available on this path; send answers false for it.
//
// Voice: the page's WebCodecs Opus packets go out as voice datagrams (a
// 16-byte proto.VoiceHeader and the packet); datagrams received are decoded
// with one WebCodecs AudioDecoder per talker and handed to the page as
// 48 kHz int16 PCM, like the gateway's PCM frames.
'use strict';
window.HarkWT = (() => {
  const VERSION = 2;                 // proto.Version2: records are length-prefixed
  // Of proto's optional features, calls to one person and to several
  // (FeatureWhisper, FeatureGroupCall); not history, probe, echo, alarm.
  const FEATURES = (1 << 5) | (1 << 6);
  const T = {HELLO: 1, AUTH: 2, WELCOME: 3, JOIN: 4, JOINED: 5, PRESENCE: 7, PRESENCE_CHANGE: 8,
    FLOOR_REQUEST: 9, FLOOR_GRANT: 10, FLOOR_DENY: 11, FLOOR_RELEASE: 12, TALKING: 13, TEXT: 14, RING: 15,
    PAGE_START: 16, PAGE_STOP: 17, PAGE: 18, ERROR: 19, PING: 20, PONG: 21, BYE: 25, TICKET: 26,
    WHISPER_START: 38, WHISPER_STOP: 39, WHISPER: 40, GROUP_CALL_START: 41};
  const KIND_VOICE = 1, FLAG_START = 1, FLAG_END = 2, FLAG_PRIORITY = 4;
  const PAGE_CHANNEL = 0xFFFF, CALL_CHANNEL = 0xFFFD; // proto.WhisperChannel
  const SILENCE_20MS = new Uint8Array([0xF8, 0xFF, 0xFE]); // Opus digital silence (as internal/client)
  // proto.Code → the gateway's error codes (internal/gateway), which the page knows.
  const CODES = {1: 'version', 2: 'auth', 3: 'forbidden', 4: 'channel', 5: 'busy', 6: 'rate', 7: 'bad',
    8: 'not_joined', 9: 'no_user', 10: 'kicked', 11: 'replaced', 12: 'shutdown', 13: 'idle', 14: 'internal',
    15: 'too_long', 16: 'full', 17: 'name_taken', 18: 'bad_name', 19: 'banned', 20: 'not_found'};
  const te = new TextEncoder(), td = new TextDecoder();

  // available says whether this browser has what the path needs.
  async function available() {
    if (!window.WebTransport || !window.AudioDecoder || !window.AudioEncoder || !window.EncodedAudioChunk) return false;
    try {
      const r = await AudioDecoder.isConfigSupported({codec: 'opus', sampleRate: 48000, numberOfChannels: 1});
      return !!r.supported;
    } catch (e) { return false; }
  }

  // ---- encoding (proto's control framing: u16 length, u8 type, body) ----
  class W {
    constructor() { this.b = []; }
    u8(v) { this.b.push(v & 255); return this; }
    u16(v) { this.b.push((v >> 8) & 255, v & 255); return this; }
    u32(v) { this.u16(v >>> 16); return this.u16(v & 0xFFFF); }
    str(s) { const e = te.encode(s || ''); this.u16(e.length); for (const x of e) this.b.push(x); return this; }
    bytes(a) { this.u16(a.length); for (const x of a) this.b.push(x); return this; }
    frame(type) {
      const n = this.b.length + 1;
      const out = new Uint8Array(2 + n);
      out[0] = n >> 8; out[1] = n & 255; out[2] = type; out.set(this.b, 3);
      return out;
    }
  }
  // ---- decoding; every read checks the length ----
  class R {
    constructor(b) { this.b = b; this.i = 0; this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength); }
    more() { return this.i < this.b.length; }
    need(n) { if (this.i + n > this.b.length) throw new Error('message too short'); }
    u8() { this.need(1); return this.b[this.i++]; }
    u16() { this.need(2); const v = this.dv.getUint16(this.i); this.i += 2; return v; }
    u32() { this.need(4); const v = this.dv.getUint32(this.i); this.i += 4; return v; }
    u64() { const hi = this.u32(), lo = this.u32(); return hi * 4294967296 + lo; }
    str() { const n = this.u16(); this.need(n); const s = td.decode(this.b.subarray(this.i, this.i + n)); this.i += n; return s; }
    bytes() { const n = this.u16(); this.need(n); const s = this.b.slice(this.i, this.i + n); this.i += n; return s; }
    // record reads a length-prefixed record with f and skips what f left.
    record(f) { const n = this.u16(); this.need(n); const r = new R(this.b.subarray(this.i, this.i + n)); this.i += n; return f(r); }
  }
  const channelInfo = (r) => { const c = {name: r.str(), id: r.u16(), mode: r.u8() === 1 ? 'open' : 'ptt'}; if (r.more()) c.history = r.u8(); return c; };
  const userInfo = (r) => ({id: r.u32(), name: r.str(), channel: r.str(), talking: r.u8() !== 0});
  const roles = (v) => [...(v & 1 ? ['page'] : []), ...(v & 2 ? ['admin'] : [])];

  // connect opens a session to info.url (with info.hashes, base64 SHA-256
  // of the relay's WebTransport certificate) and logs in with creds
  // {name, password, channel}. h: {onMessage(m), onPCM(pcm, talker, flags),
  // onClose(text), onReady(conn) (just before the welcome)}. It resolves to the connection once the relay welcomed
  // the login, and rejects (with a reason) if that does not happen within
  // timeoutMs or the relay refused: the page then uses the websocket.
  function connect(info, creds, h, timeoutMs) {
    const opts = {};
    if (info.hashes && info.hashes.length) {
      opts.serverCertificateHashes = info.hashes.map((b64) => ({algorithm: 'sha-256', value: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))}));
    }
    let wt;
    try { wt = new WebTransport(info.url, opts); } catch (e) { return Promise.reject(e); }
    const C = {
      wt, writer: null, dgw: null, welcomed: false, closed: false, session: 0, name: '',
      channels: [], channel: null, presence: [], tx: null, decoders: new Map(), ticket: null,
      stats: {sent: 0, recv: 0, undecodable: 0, badDatagrams: 0},
    };
    let settle, spare = null; // spare: a configured decoder for the next talker
    const ready = new Promise((resolve, reject) => { settle = {resolve, reject}; });
    const timer = setTimeout(() => fail('WebTransport did not log in within ' + timeoutMs + ' ms'), timeoutMs);
    function fail(why) {
      clearTimeout(timer);
      if (!C.welcomed) { settle.reject(new Error(why)); close(); return; }
      close();
      if (!C.closedSaid) { C.closedSaid = true; h.onClose(why); }
    }
    function close() {
      if (C.closed) return;
      C.closed = true;
      for (const d of [...C.decoders.values(), ...(spare ? [spare] : [])]) { try { d.dec.close(); } catch (e) { /* closed */ } }
      C.decoders.clear();
      try { wt.close(); } catch (e) { /* closed */ }
    }
    function write(bytes) {
      if (!C.writer || C.closed) return false;
      C.writer.write(bytes).catch((e) => fail('the control stream failed: ' + (e.message || e)));
      return true;
    }

    // ---- what the relay says ----
    function onMsg(type, r) {
      switch (type) {
      case T.HELLO: break;
      case T.WELCOME: {
        C.session = r.u32(); C.name = r.str(); const rl = r.u8(); r.str(); const def = r.str();
        const n = r.u16(); C.channels = [];
        for (let i = 0; i < n; i++) C.channels.push(r.record(channelInfo));
        C.welcomed = true;
        clearTimeout(timer);
        h.onReady(api); // before the welcome: the page's answers to it must go this way
        h.onMessage({t: 'welcome', session: C.session, name: C.name, roles: roles(rl), channels: C.channels.map((c) => ({name: c.name, mode: c.mode}))});
        write(new W().str(creds.channel || def).frame(T.JOIN));
        settle.resolve(api);
        break;
      }
      case T.TICKET: C.ticket = r.bytes(); break; // a credential: kept in memory only
      case T.JOINED: {
        C.channel = r.record(channelInfo);
        h.onMessage({t: 'joined', channel: C.channel.name, mode: C.channel.mode});
        break;
      }
      case T.PRESENCE: {
        const n = r.u16();
        for (let i = 0; i < n; i++) C.presence.push(r.record(userInfo));
        const more = r.more() && r.u8() !== 0;
        if (!more) { h.onMessage({t: 'presence', users: C.presence}); C.presence = []; }
        break;
      }
      case T.PRESENCE_CHANGE: {
        const k = r.u8();
        h.onMessage({t: 'user', kind: k === 1 ? 'online' : k === 2 ? 'offline' : 'moved', user: r.record(userInfo)});
        break;
      }
      case T.FLOOR_GRANT: { r.u16(); if (C.tx) C.tx.granted = true; h.onMessage({t: 'floor', granted: true, max_ms: r.u32()}); break; }
      case T.FLOOR_DENY: {
        r.u16(); r.u32(); const holder = r.str(), reason = r.str();
        if (C.tx) C.tx.denied = true;
        // A call is refused with who calls whom ("busy: dave is calling bob"), as the gateway says it.
        if (C.tx && C.tx.call) h.onMessage({t: 'busy', holder: '', text: 'Your call did not go through: ' + reason.replace(/^busy: /, '') + '. Try again when they finish.'});
        else h.onMessage({t: 'busy', holder, text: holder ? holder + ' is talking. Wait until they finish.' : reason});
        break;
      }
      case T.TALKING: {
        const ch = r.u16(), id = r.u32(), name = r.str(), on = r.u8() !== 0, priority = r.u8() !== 0;
        const c = C.channels.find((x) => x.id === ch);
        if (!on && C.tx && C.tx.ending && id === C.session) C.tx.confirmed = true;
        if (!on) {
          // Free the talker's decoder once its last frames are played,
          // unless the talker is back by then.
          const d = C.decoders.get(id);
          if (d) { const seen = d.frames; setTimeout(() => { if (C.decoders.get(id) === d && d.frames === seen) { C.decoders.delete(id); try { d.dec.close(); } catch (e) { /* closed */ } } }, 3000); }
        }
        h.onMessage({t: 'talking', channel: c ? c.name : '', id, name, on, priority});
        break;
      }
      case T.TEXT: {
        r.u32(); const from = r.str(), channel = r.str(), to = r.str(), time = r.u64(), text = r.str();
        h.onMessage({t: 'text', from, to, channel, time, text});
        break;
      }
      case T.RING: {
        r.u32(); const from = r.str(), time = r.u64(), text = r.str();
        let alarm = 0;
        if (r.more()) { r.u8(); alarm = r.u32(); }
        h.onMessage(alarm ? {t: 'ring', from, time, text, alarm} : {t: 'ring', from, time, text});
        break;
      }
      case T.PAGE: { r.u32(); const from = r.str(); h.onMessage({t: 'page', from, on: r.u8() !== 0}); break; }
      case T.ERROR: {
        const code = r.u16(), about = r.u8(), text = r.str();
        if (!C.welcomed) { fail(text); return; } // the page tries the websocket, which says it in words
        if (C.tx && C.tx.granted && !C.tx.ending && about === 0 && (code === 5 || code === 15)) {
          // Cut on the air (a page, the maximum length): the 'cut' state of
          // the shared floor (client.Floor), as the gateway says it.
          C.tx.denied = true;
          h.onMessage({t: 'floor', granted: false, state: 'cut', cause: code === 5 ? 'preempted' : 'max-talk', text});
          h.onMessage({t: 'error', code: CODES[code], text: 'Your transmission was cut: ' + text});
          return;
        }
        if (code === 5 && C.tx) { C.tx.denied = true; h.onMessage({t: 'busy', holder: '', text}); return; }
        if (C.tx && (about === T.WHISPER_START || about === T.GROUP_CALL_START)) {
          // A call refused: who is offline or cannot take calls, in the relay's words.
          C.tx.denied = true;
          h.onMessage({t: 'error', code: CODES[code] || 'relay', text: 'Your call did not go through: ' + text});
          h.onMessage({t: 'floor', granted: false, state: 'refused'});
          return;
        }
        h.onMessage({t: 'error', code: CODES[code] || 'relay', text});
        break;
      }
      case T.WHISPER: {
        const from = r.u32(), fromName = r.str(), to = r.u32(), toName = r.str(), on = r.u8() !== 0;
        if (!on && from === C.session && C.tx && C.tx.call && C.tx.ending) C.tx.confirmed = true;
        h.onMessage({t: 'call', from: fromName, to: toName, on, mine: from === C.session, to_me: to === C.session});
        break;
      }
      case T.PING: { const hi = r.u32(), lo = r.u32(); write(new W().u32(hi).u32(lo).frame(T.PONG)); break; }
      case T.BYE: {
        const code = r.u16(), text = r.str();
        h.onMessage({t: 'bye', code: CODES[code] || 'relay', text});
        fail(text); // the page decides whether to come back (a shutdown: yes)
        break;
      }
      default: break; // unknown or unused types are skipped (proto's rule)
      }
    }

    async function readControl(stream) {
      const rd = stream.readable.getReader();
      let buf = new Uint8Array(0);
      for (;;) {
        const {value, done} = await rd.read();
        if (done || !value || C.closed) throw new Error('the relay closed the control stream');
        if (!value.length) { await new Promise((r) => setTimeout(r, 0)); continue; }
        const nb = new Uint8Array(buf.length + value.length);
        nb.set(buf); nb.set(value, buf.length); buf = nb;
        while (buf.length >= 2) {
          const n = (buf[0] << 8) | buf[1];
          if (n === 0) throw new Error('a broken message from the relay');
          if (buf.length < 2 + n) break;
          const body = buf.subarray(3, 2 + n), type = buf[2];
          try { onMsg(type, new R(body)); } catch (e) { console.warn('hark: a message from the relay did not parse', type, e); }
          buf = buf.slice(2 + n);
        }
      }
    }

    // ---- voice in: one decoder per talker ----
    // A decoder is made ready before a talker needs it: configuring one
    // when the first datagram arrives delays the first words.
    function newDecoder() {
      const d = {flags: [], talker: 0, frames: 0, dec: null};
      d.dec = new AudioDecoder({
        output: (ad) => {
          const f = d.flags.shift() || 0;
          const n = ad.numberOfFrames, f32 = new Float32Array(n);
          ad.copyTo(f32, {planeIndex: 0, format: 'f32-planar'});
          ad.close();
          const pcm = new Int16Array(n);
          for (let i = 0; i < n; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(f32[i] * 32767)));
          h.onPCM(pcm, d.talker, f);
        },
        error: (e) => { C.stats.undecodable++; C.decoders.delete(d.talker); console.warn('hark: voice decoder failed', e); },
      });
      d.dec.configure({codec: 'opus', sampleRate: 48000, numberOfChannels: 1});
      return d;
    }
    function decoderFor(talker) {
      let d = C.decoders.get(talker);
      if (d) return d;
      d = spare || newDecoder();
      d.talker = talker;
      C.decoders.set(talker, d);
      spare = newDecoder();
      return d;
    }
    function onDatagram(b) {
      if (b.length < 17 || b[0] !== KIND_VOICE) { C.stats.badDatagrams++; return; }
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const flags = b[1], talker = dv.getUint32(4), ts = dv.getUint32(10), dur = dv.getUint16(14);
      if (dur === 0) { C.stats.badDatagrams++; return; }
      C.stats.recv++;
      const d = decoderFor(talker);
      if (d.dec.state !== 'configured') return;
      d.flags.push(flags);
      d.frames++;
      d.dec.decode(new EncodedAudioChunk({type: 'key', timestamp: Math.round(ts * 1e6 / 48000), data: b.subarray(16)}));
    }
    async function readDatagrams() {
      const rd = wt.datagrams.readable.getReader();
      for (;;) {
        const {value, done} = await rd.read();
        // Firefox keeps answering reads of a closed session at once: stop
        // (looping on them starved the page).
        if (done || !value || C.closed) return;
        if (!value.length) { await new Promise((r) => setTimeout(r, 0)); continue; }
        try { onDatagram(value); } catch (e) { C.stats.badDatagrams++; }
      }
    }

    // ---- voice out ----
    function datagram(flags, packet, samples) {
      const tx = C.tx;
      const b = new Uint8Array(16 + packet.length);
      const dv = new DataView(b.buffer);
      b[0] = KIND_VOICE; b[1] = flags;
      dv.setUint16(2, tx.channel); dv.setUint32(4, C.session);
      dv.setUint16(8, tx.seq & 0xFFFF); dv.setUint32(10, tx.ts >>> 0); dv.setUint16(14, samples);
      b.set(packet, 16);
      tx.seq++; tx.ts += samples; tx.frames++;
      if (C.dgw) C.dgw.write(b).catch(() => {});
      C.stats.sent++;
    }

    // ---- what the page asks ----
    const api = {
      transport: 'webtransport',
      stats: C.stats,
      // send handles a request in the gateway's JSON shape; false when this
      // path cannot do it.
      send(m) {
        if (C.closed) return false;
        switch (m.t) {
        case 'join': return write(new W().str(m.channel).frame(T.JOIN));
        case 'text': return write(new W().u32(0).str('').str(m.to ? '' : (C.channel ? C.channel.name : '')).str(m.to || '').u32(0).u32(0).str(m.text).frame(T.TEXT));
        case 'ring': return write(new W().u32(0).str('').u32(0).u32(0).str(m.text || '').frame(T.RING));
        case 'ping': h.onMessage({t: 'pong', n: m.n}); return true;
        case 'talk':
          if (m.on) {
            if (m.echo || (m.format && m.format !== 'opus')) return false;
            if (!C.channel && !m.page && !m.to) return false;
            const seq = C.tx ? C.tx.seq : 0, ts = C.tx ? C.tx.ts : 0;
            if (m.to) {
              // A call: one name (WhisperStart), or several or a role
              // (GroupCallStart), as client.Whisper decides.
              const names = m.to.split(',').map((n) => n.trim()).filter(Boolean);
              C.tx = {channel: CALL_CHANNEL, call: true, seq, ts, frames: 0};
              if (names.length === 1 && !names[0].startsWith('role:')) write(new W().str(names[0]).frame(T.WHISPER_START));
              else { const w = new W().u16(names.length); for (const n of names) w.str(n); write(w.frame(T.GROUP_CALL_START)); }
              return true;
            }
            C.tx = {channel: m.page ? PAGE_CHANNEL : C.channel.id, page: !!m.page, seq, ts, frames: 0};
            write(m.page ? new W().frame(T.PAGE_START) : new W().u16(C.tx.channel).frame(T.FLOOR_REQUEST));
            return true;
          }
          if (C.tx && !C.tx.ending) {
            const tx = C.tx;
            tx.ending = true;
            if (!tx.denied) datagram(FLAG_END | (tx.frames === 0 ? FLAG_START : 0), SILENCE_20MS, 960);
            // The end flag frees the floor; the release covers a lost last
            // datagram, after the relay had time to say so (as internal/client).
            setTimeout(() => {
              if (!tx.confirmed) write(tx.page ? new W().frame(T.PAGE_STOP) : tx.call ? new W().frame(T.WHISPER_STOP) : new W().u16(tx.channel).frame(T.FLOOR_RELEASE));
            }, 500);
          }
          return true;
        default: return false;
        }
      },
      // sendOpus sends one Opus packet of the transmission in progress.
      sendOpus(packet, samples) {
        if (!C.tx || C.tx.ending || C.tx.denied || C.closed) return false;
        datagram(C.tx.frames === 0 ? FLAG_START : 0, packet, samples || 960);
        return true;
      },
      close() { C.closedSaid = true; close(); },
      ticket: () => C.ticket,
    };

    wt.ready.then(async () => {
      // A datagram may wait up to 200 ms to be sent (a frame later than
      // that is useless to a listener). Chromium's default is about an
      // RTT, which on a loaded machine dropped most of a transmission.
      try { wt.datagrams.outgoingMaxAge = 200; wt.datagrams.outgoingHighWaterMark = 64; } catch (e) { /* not settable here */ }
      C.dgw = wt.datagrams.writable.getWriter();
      const stream = await wt.createBidirectionalStream();
      C.writer = stream.writable.getWriter();
      const hello = new W().u16(VERSION).str('hark-web (WebTransport)').u16(VERSION).u32(FEATURES).frame(T.HELLO);
      const auth = new W().str(creds.name).str(creds.password || '');
      if (creds.ticket) auth.bytes(creds.ticket);
      write(hello); write(auth.frame(T.AUTH));
      spare = newDecoder();
      readDatagrams().catch(() => {});
      await readControl(stream);
    }).catch((e) => fail(e && e.message ? e.message : String(e)));
    wt.closed.then((i) => fail(i && i.reason ? i.reason : 'the relay closed the WebTransport session'),
      (e) => fail('WebTransport failed: ' + (e && e.message ? e.message : e)));
    return ready;
  }

  return {available, connect};
})();
