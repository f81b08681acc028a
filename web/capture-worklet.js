// Capture: cuts the microphone into 20 ms frames of int16 PCM at the context's
// sample rate and posts each frame (with its RMS level, for voice detection)
// to the page. The page decides whether to send it.
class HarkCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate / 50);
    this.buf = new Int16Array(this.frame);
    this.n = 0;
    this.sum = 0;
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      let v = ch[i];
      if (v > 1) v = 1; else if (v < -1) v = -1;
      this.sum += v * v;
      this.buf[this.n++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.n === this.frame) {
        const level = Math.sqrt(this.sum / this.frame);
        this.port.postMessage({pcm: this.buf, level}, [this.buf.buffer]);
        this.buf = new Int16Array(this.frame);
        this.n = 0;
        this.sum = 0;
      }
    }
    return true;
  }
}
registerProcessor('hark-capture', HarkCapture);
