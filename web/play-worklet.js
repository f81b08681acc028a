// Playback: plays int16 PCM frames (48 kHz, mono) posted by the page, one
// stream per talker, mixed. Each stream has a small adaptive buffer: at the
// start of a burst it waits until `target` samples are queued; an underrun
// raises the target (up to max), a long calm stretch lowers it again, and a
// backlog above the target is worked off so delay never builds up: by
// skipping quiet 10 ms pieces (the pauses between words) as they come up, so
// that a burst after a stall (the network, or a busy phone's main thread
// posting late frames together) costs no word; only a backlog more than half
// a second over that found no pause is cut at once. A frame
// flagged "end", or an {end: talker} message from the page (the relay said
// the talker stopped; the last datagram may be lost), lets the stream play
// out whatever is left; then it posts {drained: true, talker}.
const FLAG_START = 1, FLAG_END = 2;
// A replay from history (gateway: history.ReplayTalker) is stored speech,
// paced by the gateway: its backlog after a late burst is played, not
// trimmed (a replay has no delay to keep low, and trimming lost words).
const REPLAY_TALKER = 0xFFFFFFF0;
// A 10 ms piece whose RMS is below QUIET (about -40 dBFS) is a pause that
// may be skipped to catch up; at most SKIPS pieces per 128-sample call.
const QUIET = 0.01, SKIPS = 4;

class Stream {
  constructor(rate) {
    this.q = new Float32Array(rate * 4); // ring buffer at the input rate
    this.r = 0; this.w = 0;              // read (fractional) and write positions
    this.playing = false; this.ending = false;
    this.idle = 0;
  }
  queued() { return this.w - Math.floor(this.r); }
}

class HarkPlay extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.rate = o.inputRate || 48000;
    this.step = this.rate / sampleRate;       // input samples per output sample
    this.min = Math.round(this.rate * 0.02);  // 20 ms, in input samples
    this.max = Math.round(this.rate * 0.2);   // 200 ms
    this.target = Math.round(this.rate * 0.03);
    this.piece = Math.round(this.rate * 0.01); // 10 ms
    this.cut = Math.round(this.rate * 0.5);    // a backlog this far over is cut
    this.streams = new Map();
    this.calm = 0;
    this.underruns = 0; this.trimmed = 0; this.skipped = 0; this.frames = 0; this.ticks = 0;
    this.port.onmessage = (e) => {
      const d = e.data;
      if (d.pcm) this.push(d.talker || 0, d.flags || 0, d.pcm);
      else if (d.reset) this.streams.clear();
      else if (d.end !== undefined) { const s = this.streams.get(d.end); if (s) s.ending = true; }
    };
  }
  push(talker, flags, pcm) {
    let s = this.streams.get(talker);
    if (!s) { s = new Stream(this.rate); this.streams.set(talker, s); }
    if (flags & FLAG_START) s.ending = false;
    const cap = s.q.length;
    if (s.queued() + pcm.length > cap) { s.r = s.w - cap / 2; this.trimmed++; }
    for (let i = 0; i < pcm.length; i++) s.q[(s.w + i) % cap] = pcm[i] / 32768;
    s.w += pcm.length;
    s.idle = 0;
    if (flags & FLAG_END) s.ending = true;
    this.frames++;
  }
  process(inputs, outputs) {
    const out = outputs[0][0];
    out.fill(0);
    const need = out.length * this.step;
    for (const [id, s] of this.streams) {
      const cap = s.q.length;
      if (!s.playing) {
        if (s.ending && s.queued() <= 0) { // the end arrived after the buffer ran dry
          s.ending = false;
          this.port.postMessage({drained: true, talker: id});
          continue;
        }
        if (s.queued() >= this.target || (s.ending && s.queued() > 0)) s.playing = true;
        else {
          if (++s.idle > sampleRate / out.length * 5) this.streams.delete(id); // 5 s silent
          continue;
        }
      }
      let n = out.length;
      if (s.queued() < need + 1) {
        if (!s.ending) {
          // Underrun: stop, wait for the (larger) target again.
          s.playing = false;
          this.underruns++;
          this.target = Math.min(this.max, this.target + this.min);
          this.calm = 0;
          continue;
        }
        n = Math.max(0, Math.floor((s.queued() - 1) / this.step));
      } else {
        let excess = s.queued() - need - (this.target + this.min * 3);
        if (excess > 0 && id !== REPLAY_TALKER) {
          if (excess > this.cut && !s.ending) { s.r += excess; this.trimmed++; }
          else {
            for (let k = 0; k < SKIPS && excess >= this.piece && this.quiet(s, this.piece); k++) {
              s.r += this.piece; excess -= this.piece; this.skipped++;
            }
          }
        }
      }
      for (let i = 0; i < n; i++) {
        const p = s.r, i0 = Math.floor(p), f = p - i0;
        const a = s.q[i0 % cap], b = s.q[(i0 + 1) % cap];
        out[i] += a + (b - a) * f;
        s.r += this.step;
      }
      if (n < out.length) { s.playing = false; s.ending = false; s.r = s.w; this.port.postMessage({drained: true, talker: id}); }
    }
    for (let i = 0; i < out.length; i++) { if (out[i] > 1) out[i] = 1; else if (out[i] < -1) out[i] = -1; }
    if (++this.calm > sampleRate / out.length * 10) { // 10 s without an underrun
      this.calm = 0;
      this.target = Math.max(this.min, this.target - this.min);
    }
    if (++this.ticks % 375 === 0) this.report(); // about once a second
    return true;
  }
  // quiet: whether the next n queued samples of s are a pause.
  quiet(s, n) {
    const cap = s.q.length, i0 = Math.floor(s.r);
    let e = 0;
    for (let i = 0; i < n; i++) { const v = s.q[(i0 + i) % cap]; e += v * v; }
    return e < QUIET * QUIET * n;
  }
  report() {
    let q = 0; for (const s of this.streams.values()) q = Math.max(q, s.queued());
    this.port.postMessage({stats: {target: this.target, queued: q, streams: this.streams.size, underruns: this.underruns, trimmed: this.trimmed, skipped: this.skipped}});
  }
}
registerProcessor('hark-play', HarkPlay);
