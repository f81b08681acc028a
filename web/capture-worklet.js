// Capture: cuts the microphone into 20 ms frames of int16 PCM at the context's
// sample rate and posts each frame (with its RMS level, for voice detection)
// to the page. The page decides whether to send it.
//
// For delay measurements each frame also carries the context time at its end
// and the context times of sound onsets in it (a sample reaching ONSET after
// at least 100 ms below it): the page maps them to wall-clock time.
const ONSET = 0.2;
class HarkCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate / 50);
    this.buf = new Int16Array(this.frame);
    this.n = 0;
    this.sum = 0;
    this.quiet = sampleRate; // samples since the last one at or above ONSET
    this.onsets = [];
    // {reset: true}: the microphone (re)opens; drop the part-filled frame.
    this.port.onmessage = (e) => {
      if (e.data && e.data.reset) { this.n = 0; this.sum = 0; this.quiet = sampleRate; this.onsets = []; }
    };
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      let v = ch[i];
      if (v > 1) v = 1; else if (v < -1) v = -1;
      if (v >= ONSET || v <= -ONSET) {
        if (this.quiet >= sampleRate / 10) this.onsets.push(currentTime + i / sampleRate);
        this.quiet = 0;
      } else this.quiet++;
      this.sum += v * v;
      this.buf[this.n++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.n === this.frame) {
        const level = Math.sqrt(this.sum / this.frame);
        const msg = {pcm: this.buf, level, end: currentTime + (i + 1) / sampleRate};
        if (this.onsets.length) { msg.onsets = this.onsets; this.onsets = []; }
        this.port.postMessage(msg, [this.buf.buffer]);
        this.buf = new Int16Array(this.frame);
        this.n = 0;
        this.sum = 0;
      }
    }
    return true;
  }
}
registerProcessor('hark-capture', HarkCapture);
