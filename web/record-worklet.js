// Test tap: records what the page plays while `on`. Input 0 comes from the
// page's MediaStreamAudioDestinationNode (what a person would hear, recorded
// as the tests compare it); input 1, if connected, straight from the page's
// output mix and is only watched for sound onsets (a sample reaching 0.2
// after at least 100 ms below it), reported as context times, so that the
// delay measurement does not include the MediaStream round trip of the tap.
const ONSET = 0.2;
class Onsets {
  constructor() { this.quiet = sampleRate; this.list = []; }
  scan(ch) {
    if (!ch) { this.quiet += 128; return; }
    for (let i = 0; i < ch.length; i++) {
      const v = ch[i];
      if (v >= ONSET || v <= -ONSET) {
        if (this.quiet >= sampleRate / 10) this.list.push(currentTime + i / sampleRate);
        this.quiet = 0;
      } else this.quiet++;
    }
  }
}
class HarkRecord extends AudioWorkletProcessor {
  constructor() {
    super();
    this.on = false;
    this.reset();
    this.port.onmessage = (e) => {
      if (e.data.start) { this.on = true; this.reset(); }
      if (e.data.stop) {
        this.on = false;
        this.port.postMessage({chunks: this.chunks, firstLoud: this.firstLoud, rate: sampleRate,
          onsets: this.direct.list, tapOnsets: this.tap.list});
        this.reset();
      }
    };
  }
  reset() { this.chunks = []; this.firstLoud = -1; this.direct = new Onsets(); this.tap = new Onsets(); }
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
    this.tap.scan(ch);
    this.direct.scan(inputs[1] && inputs[1][0]);
    return true;
  }
}
registerProcessor('hark-record', HarkRecord);
