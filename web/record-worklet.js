// Test tap: records what the page plays (fed from a MediaStreamAudioDestinationNode)
// while `on`, and notes the context time of the first audible sample.
class HarkRecord extends AudioWorkletProcessor {
  constructor() {
    super();
    this.on = false;
    this.chunks = [];
    this.firstLoud = -1;
    this.port.onmessage = (e) => {
      if (e.data.start) { this.on = true; this.chunks = []; this.firstLoud = -1; }
      if (e.data.stop) {
        this.on = false;
        this.port.postMessage({chunks: this.chunks, firstLoud: this.firstLoud, rate: sampleRate});
        this.chunks = [];
      }
    };
  }
  process(inputs) {
    if (!this.on) return true;
    const ch = inputs[0] && inputs[0][0];
    const n = ch ? ch.length : 128;
    const c = new Float32Array(n);
    if (ch) c.set(ch);
    if (this.firstLoud < 0) {
      for (let i = 0; i < n; i++) if (Math.abs(c[i]) > 0.01) { this.firstLoud = currentTime + i / sampleRate; break; }
    }
    this.chunks.push(c);
    return true;
  }
}
registerProcessor('hark-record', HarkRecord);
